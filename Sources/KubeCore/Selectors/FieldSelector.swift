/// A field selector: `metadata.name=x,status.phase!=Running`. Which fields a
/// resource supports is the caller's to say (`unsupportedFields`).
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        public var negated: Bool
        public var value: String
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    public var isEmpty: Bool { requirements.isEmpty }

    public var fields: [String] { requirements.map(\.field) }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses the string form, with `\,`, `\=` and `\\` escapes in values.
    public init(parsing text: String) throws(ParseError) {
        var requirements: [Requirement] = []
        for term in Self.split(text, on: ",") where !term.isEmpty {
            let requirement: Requirement
            if let r = Self.splitOperator(term, "!=") {
                requirement = Requirement(field: r.0, negated: true, value: r.1)
            } else if let r = Self.splitOperator(term, "==") {
                requirement = Requirement(field: r.0, negated: false, value: r.1)
            } else if let r = Self.splitOperator(term, "=") {
                requirement = Requirement(field: r.0, negated: false, value: r.1)
            } else {
                throw ParseError(message: "invalid selector: '\(text)'; can't understand '\(term)'")
            }
            requirements.append(Requirement(field: requirement.field.trimmingSpaces, negated: requirement.negated, value: Self.unescape(requirement.value)))
        }
        self.requirements = requirements
    }

    public func matches(_ value: (String) -> String?) -> Bool {
        requirements.allSatisfy { r in
            let actual = value(r.field) ?? ""
            return r.negated ? actual != r.value : actual == r.value
        }
    }

    /// The first field not in `supported`, as the API server reports it.
    public func unsupportedFieldError(supported: Set<String>) -> String? {
        fields.first { !supported.contains($0) }.map { "field label not supported: \($0)" }
    }

    public var description: String {
        requirements.map { "\($0.field)\($0.negated ? "!=" : "=")\(Self.escape($0.value))" }.joined(separator: ",")
    }

    static func split(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped { current.append("\\"); current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == separator { parts.append(current); current = ""; continue }
            current.append(c)
        }
        if escaped { current.append("\\") }
        parts.append(current)
        return parts
    }

    /// Splits at the first unescaped occurrence of `op`.
    static func splitOperator(_ term: String, _ op: String) -> (String, String)? {
        let chars = Array(term)
        let opChars = Array(op)
        var i = 0
        while i + opChars.count <= chars.count {
            if chars[i] == "\\" { i += 2; continue }
            if Array(chars[i..<i + opChars.count]) == opChars {
                return (String(chars[..<i]), String(chars[(i + opChars.count)...]))
            }
            i += 1
        }
        return nil
    }

    static func unescape(_ value: String) -> String {
        var out = ""
        var escaped = false
        for c in value {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            if c == "\\" || c == "," || c == "=" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
