/// A label selector: requirements that all must hold for a set of labels.
/// Parsed from the string form (`a=b,c in (x,y),!d`) or built from the JSON
/// form (`matchLabels`, `matchExpressions`). The empty selector matches everything.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable {
        case equals = "=", doubleEquals = "==", notEquals = "!=", `in` = "in", notIn = "notin", exists = "exists", doesNotExist = "!"
    }

    public struct Requirement: Sendable, Hashable {
        public var key: String
        public var op: Operator
        public var values: [String]

        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals, .doubleEquals, .in: return value.map { values.contains($0) } ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }

        var text: String {
            switch op {
            case .equals, .doubleEquals, .notEquals: return "\(key)\(op.rawValue)\(values.first ?? "")"
            case .in, .notIn: return "\(key) \(op.rawValue) (\(values.joined(separator: ",")))"
            case .exists: return key
            case .doesNotExist: return "!\(key)"
            }
        }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    public var description: String { requirements.map(\.text).joined(separator: ",") }

    /// An error in a selector, worded as apimachinery words it.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(parsing text: String) throws(ParseError) {
        var lexer = SelectorLexer(Array(text.unicodeScalars))
        var requirements: [Requirement] = []
        while true {
            lexer.skipSpaces()
            if lexer.atEnd { break }
            requirements.append(try Self.parseRequirement(&lexer))
            lexer.skipSpaces()
            if lexer.atEnd { break }
            guard lexer.take(",") else {
                throw ParseError(message: "found '\(lexer.peekWord())', expected: ',' or 'end of string'")
            }
            lexer.skipSpaces()
            if lexer.atEnd { throw ParseError(message: "found '', expected: identifier after ','") }
        }
        self.requirements = requirements
    }

    private static func parseRequirement(_ lexer: inout SelectorLexer) throws(ParseError) -> Requirement {
        if lexer.take("!") {
            lexer.skipSpaces()
            let key = lexer.identifier()
            try validateKey(key)
            return Requirement(key: key, op: .doesNotExist, values: [])
        }
        let key = lexer.identifier()
        if key.isEmpty { throw ParseError(message: "found '\(lexer.peekWord())', expected: !, identifier, or 'end of string'") }
        try validateKey(key)
        lexer.skipSpaces()
        if lexer.atEnd || lexer.peek(",") { return Requirement(key: key, op: .exists, values: []) }
        let op: Operator
        if lexer.take("==") { op = .doubleEquals }
        else if lexer.take("!=") { op = .notEquals }
        else if lexer.take("=") { op = .equals }
        else {
            let word = lexer.identifier()
            switch word {
            case "in": op = .in
            case "notin": op = .notIn
            default: throw ParseError(message: "found '\(word)', expected: in, notin, =, ==, !=, gt, lt")
            }
        }
        lexer.skipSpaces()
        var values: [String] = []
        if op == .in || op == .notIn {
            guard lexer.take("(") else { throw ParseError(message: "found '\(lexer.peekWord())', expected: '('") }
            while true {
                lexer.skipSpaces()
                let value = lexer.identifier()
                try validateValue(value)
                values.append(value)
                lexer.skipSpaces()
                if lexer.take(")") { break }
                guard lexer.take(",") else {
                    throw ParseError(message: lexer.atEnd ? "found '', expected: ',', or ')'" : "found '\(lexer.peekWord())', expected: ',', or ')'")
                }
            }
            if values == [""] && values.count == 1 && op == .in { values = [""] }
        } else {
            let value = lexer.identifier()
            try validateValue(value)
            values = [value]
        }
        return Requirement(key: key, op: op, values: values)
    }

    static func validateKey(_ key: String) throws(ParseError) {
        let problems = NameValidation.qualifiedNameProblems(key)
        if !problems.isEmpty { throw ParseError(message: "unable to parse requirement: invalid label key \"\(key)\": \(problems.joined(separator: "; "))") }
    }

    static func validateValue(_ value: String) throws(ParseError) {
        let problems = NameValidation.labelValueProblems(value)
        if !problems.isEmpty { throw ParseError(message: "unable to parse requirement: invalid label value: \"\(value)\": at key: \(problems.joined(separator: "; "))") }
    }

    /// From the JSON form of `metav1.LabelSelector`.
    public init(json: JSON) throws(ParseError) {
        var requirements: [Requirement] = []
        for (key, value) in (json["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let s = value.stringValue else { throw ParseError(message: "matchLabels[\(key)] must be a string") }
            requirements.append(Requirement(key: key, op: .equals, values: [s]))
        }
        for (i, expression) in (json["matchExpressions"]?.arrayValue ?? []).enumerated() {
            guard let key = expression["key"]?.stringValue, let op = expression["operator"]?.stringValue else {
                throw ParseError(message: "matchExpressions[\(i)] needs key and operator")
            }
            let values = expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch op {
            case "In": requirements.append(Requirement(key: key, op: .in, values: values))
            case "NotIn": requirements.append(Requirement(key: key, op: .notIn, values: values))
            case "Exists": requirements.append(Requirement(key: key, op: .exists, values: []))
            case "DoesNotExist": requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            default: throw ParseError(message: "matchExpressions[\(i)].operator: \"\(op)\" is not a valid label selector operator")
            }
        }
        self.requirements = requirements
    }
}

/// Characters of a selector, with the few tokens selectors have.
struct SelectorLexer {
    let scalars: [Unicode.Scalar]
    var index = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var atEnd: Bool { index >= scalars.count }

    mutating func skipSpaces() { while !atEnd && (scalars[index] == " " || scalars[index] == "\t") { index += 1 } }

    func peek(_ token: String) -> Bool {
        let t = Array(token.unicodeScalars)
        return index + t.count <= scalars.count && Array(scalars[index..<index + t.count]) == t
    }

    mutating func take(_ token: String) -> Bool {
        guard peek(token) else { return false }
        index += token.unicodeScalars.count
        return true
    }

    /// A run of characters up to a space or one of `,=!()`.
    mutating func identifier() -> String {
        let start = index
        while !atEnd, !" \t,=!()".unicodeScalars.contains(scalars[index]) { index += 1 }
        return String(String.UnicodeScalarView(scalars[start..<index]))
    }

    func peekWord() -> String {
        var copy = self
        let word = copy.identifier()
        return word.isEmpty && !atEnd ? String(scalars[index]) : word
    }
}
