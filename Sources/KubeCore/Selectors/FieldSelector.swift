/// A field selector: `metadata.name=x,status.phase!=Running`.
///
/// Parsed as apimachinery's `fields.ParseSelector` does: terms split at
/// unescaped commas and sorted, each split at its first `!=`, `==` or `=`,
/// values unescaped (`\,` `\=` `\\`), field names taken verbatim. Which
/// fields a resource supports is the caller's to say (`unsupportedFieldError`),
/// as each kind registers its own conversion in the API server.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        /// `!=` rather than `=`/`==`.
        public var negated: Bool
        public var value: String

        public init(field: String, negated: Bool, value: String) {
            self.field = field
            self.negated = negated
            self.value = value
        }
    }

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    public var isEmpty: Bool { requirements.isEmpty }

    /// The field names used, in order.
    public var fields: [String] { requirements.map(\.field) }

    public init(parsing text: String) throws(ParseError) {
        var requirements: [Requirement] = []
        let terms = Self.splitTerms(text).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        for term in terms where !term.isEmpty {
            guard let (field, op, rawValue) = Self.splitTerm(term) else {
                throw ParseError(message: "invalid selector: '\(text)'; can't understand '\(term)'")
            }
            requirements.append(Requirement(field: field, negated: op == "!=", value: try Self.unescape(rawValue)))
        }
        self.requirements = requirements
    }

    /// Whether an object matches; `value` gives a field's value, nil counting as "".
    public func matches(getter value: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = value(requirement.field) ?? ""
            return requirement.negated ? actual != requirement.value : actual == requirement.value
        }
    }

    /// The API server's 400 message for the first field outside `supported`
    /// (`field label not supported: NAME`), or nil when all are supported.
    public func unsupportedFieldError(supported: Set<String>) -> String? {
        fields.first { !supported.contains($0) }.map { "field label not supported: \($0)" }
    }

    /// The canonical form: `field=value` / `field!=value`, values escaped.
    public var description: String {
        requirements.map { "\($0.field)\($0.negated ? "!=" : "=")\(Self.escape($0.value))" }.joined(separator: ",")
    }

    /// Splits at commas not preceded by a backslash; escapes stay in place.
    static func splitTerms(_ text: String) -> [String] {
        if text.isEmpty { return [] }
        var terms: [String] = []
        var current = ""
        var escaped = false
        for c in text.unicodeScalars {
            if escaped {
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "," {
                terms.append(current)
                current = ""
                continue
            }
            current.unicodeScalars.append(c)
        }
        terms.append(current)
        return terms
    }

    /// Splits at the first place where `!=`, `==` or `=` starts (escapes are not
    /// considered here, as in apimachinery; a stray `=` then fails in `unescape`).
    static func splitTerm(_ term: String) -> (String, String, String)? {
        let scalars = Array(term.unicodeScalars)
        for i in scalars.indices {
            for op in ["!=", "==", "="] {
                let opScalars = Array(op.unicodeScalars)
                if i + opScalars.count <= scalars.count && Array(scalars[i..<i + opScalars.count]) == opScalars {
                    let lhs = String(String.UnicodeScalarView(scalars[..<i]))
                    let rhs = String(String.UnicodeScalarView(scalars[(i + opScalars.count)...]))
                    return (lhs, op, rhs)
                }
            }
        }
        return nil
    }

    /// Undoes `\,`, `\=` and `\\`; any other escape, a lone trailing backslash,
    /// or an unescaped `,` or `=` is an error.
    static func unescape(_ value: String) throws(ParseError) -> String {
        var out = ""
        var escaped = false
        for c in value.unicodeScalars {
            if escaped {
                guard c == "\\" || c == "," || c == "=" else {
                    throw ParseError(message: "invalid field selector: invalid escape sequence: \\\(c)")
                }
                out.unicodeScalars.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "," || c == "=" {
                // Go prints the rune with %v, which is its number.
                throw ParseError(message: "invalid field selector: unescaped character in value: \(c.value)")
            } else {
                out.unicodeScalars.append(c)
            }
        }
        if escaped { throw ParseError(message: "invalid field selector: invalid escape sequence: \\") }
        return out
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            if c == "\\" || c == "," || c == "=" { out += "\\" }
            out.unicodeScalars.append(c)
        }
        return out
    }
}
