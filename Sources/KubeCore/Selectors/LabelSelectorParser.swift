/// The query-string syntax of label selectors, parsed with the same tokens,
/// lookahead and error wording as apimachinery's `labels.Parse`, so a bad
/// `?labelSelector=` gets the message kubectl users know:
///
///     selector    ::= requirement ("," requirement)*
///     requirement ::= ["!"] KEY [("in" | "notin") "(" values ")" | ("=" | "==" | "!=" | ">" | "<") VALUE]
extension LabelSelector {
    public init(parsing text: String) throws(ParseError) {
        var parser = LabelSelectorParser(tokens: LabelSelectorLexer.tokens(of: Array(text.utf8)))
        self.init(requirements: try parser.parseSelector())
    }
}

/// One token of a selector and the text it came from.
struct SelectorToken: Equatable {
    enum Kind: Equatable {
        case end, identifier, openParen, closeParen, comma
        case not, equals, doubleEquals, notEquals, greaterThan, lessThan, `in`, notIn
    }

    var kind: Kind
    var text: String
}

/// Splits a selector into tokens: runs of ordinary bytes are identifiers
/// (`in` and `notin` are keywords), `=!(),<>` form operators, white space separates.
enum LabelSelectorLexer {
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a }
    static func isSpecial(_ c: UInt8) -> Bool { "=!(),<>".utf8.contains(c) }

    static func tokens(of bytes: [UInt8]) -> [SelectorToken] {
        var tokens: [SelectorToken] = []
        var i = 0
        while true {
            while i < bytes.count && isSpace(bytes[i]) { i += 1 }
            // A NUL byte ends the selector, as it does for apimachinery's lexer.
            guard i < bytes.count, bytes[i] != 0 else {
                tokens.append(SelectorToken(kind: .end, text: ""))
                return tokens
            }
            if isSpecial(bytes[i]) {
                let next = i + 1 < bytes.count ? bytes[i + 1] : 0
                let token: SelectorToken
                switch (bytes[i], next) {
                case (UInt8(ascii: "="), UInt8(ascii: "=")): token = SelectorToken(kind: .doubleEquals, text: "==")
                case (UInt8(ascii: "!"), UInt8(ascii: "=")): token = SelectorToken(kind: .notEquals, text: "!=")
                case (UInt8(ascii: "="), _): token = SelectorToken(kind: .equals, text: "=")
                case (UInt8(ascii: "!"), _): token = SelectorToken(kind: .not, text: "!")
                case (UInt8(ascii: "("), _): token = SelectorToken(kind: .openParen, text: "(")
                case (UInt8(ascii: ")"), _): token = SelectorToken(kind: .closeParen, text: ")")
                case (UInt8(ascii: ","), _): token = SelectorToken(kind: .comma, text: ",")
                case (UInt8(ascii: ">"), _): token = SelectorToken(kind: .greaterThan, text: ">")
                default: token = SelectorToken(kind: .lessThan, text: "<")
                }
                tokens.append(token)
                i += token.text.utf8.count
                continue
            }
            let start = i
            while i < bytes.count && bytes[i] != 0 && !isSpecial(bytes[i]) && !isSpace(bytes[i]) { i += 1 }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if i < bytes.count && bytes[i] == 0 { i += 1 }  // the NUL ends the word and is dropped
            switch text {
            case "in": tokens.append(SelectorToken(kind: .in, text: text))
            case "notin": tokens.append(SelectorToken(kind: .notIn, text: text))
            default: tokens.append(SelectorToken(kind: .identifier, text: text))
            }
        }
    }
}

/// Recursive descent over the tokens. Outside the operator position `in` and
/// `notin` are ordinary identifiers, so `in in (in)` is a valid selector.
struct LabelSelectorParser {
    typealias ParseError = LabelSelector.ParseError
    let tokens: [SelectorToken]
    var position = 0

    init(tokens: [SelectorToken]) { self.tokens = tokens }

    func peek(operatorPosition: Bool = false) -> SelectorToken {
        Self.contextual(tokens[position], operatorPosition: operatorPosition)
    }

    mutating func next(operatorPosition: Bool = false) -> SelectorToken {
        let token = peek(operatorPosition: operatorPosition)
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    static func contextual(_ token: SelectorToken, operatorPosition: Bool) -> SelectorToken {
        if !operatorPosition && (token.kind == .in || token.kind == .notIn) {
            return SelectorToken(kind: .identifier, text: token.text)
        }
        return token
    }

    mutating func parseSelector() throws(ParseError) -> [LabelSelector.Requirement] {
        var requirements: [LabelSelector.Requirement] = []
        while true {
            let token = peek()
            switch token.kind {
            case .identifier, .not:
                do {
                    requirements.append(try parseRequirement())
                } catch {
                    throw ParseError(message: "unable to parse requirement: " + error.message)
                }
                let separator = next()
                switch separator.kind {
                case .end:
                    return requirements
                case .comma:
                    let following = peek()
                    if following.kind != .identifier && following.kind != .not {
                        throw ParseError(message: "found '\(following.text)', expected: identifier after ','")
                    }
                default:
                    throw ParseError(message: "found '\(separator.text)', expected: ',' or 'end of string'")
                }
            case .end:
                return requirements
            default:
                throw ParseError(message: "found '\(token.text)', expected: !, identifier, or 'end of string'")
            }
        }
    }

    mutating func parseRequirement() throws(ParseError) -> LabelSelector.Requirement {
        var token = next()
        var negated = false
        if token.kind == .not {
            negated = true
            token = next()
        }
        guard token.kind == .identifier else {
            throw ParseError(message: "found '\(token.text)', expected: identifier")
        }
        let key = token.text
        let keyProblems = NameValidation.qualifiedNameProblems(key)
        if !keyProblems.isEmpty {
            // apimachinery validates the key with a nil field path, which prints as "<nil>".
            throw ParseError(message: FieldCause.invalid("<nil>", .string(key), keyProblems.joined(separator: "; ")).description)
        }
        let following = peek().kind
        if negated || following == .end || following == .comma {
            return try LabelSelector.Requirement(key: key, op: negated ? .doesNotExist : .exists, values: [])
        }
        let op = try parseOperator()
        let values = op == .in || op == .notIn ? try parseValueSet() : try parseExactValue()
        // Values form a set: sorted, each once.
        return try LabelSelector.Requirement(key: key, op: op, values: Array(Set(values)).sorted())
    }

    mutating func parseOperator() throws(ParseError) -> LabelSelector.Operator {
        let token = next(operatorPosition: true)
        switch token.kind {
        case .in: return .in
        case .notIn: return .notIn
        case .equals: return .equals
        case .doubleEquals: return .doubleEquals
        case .notEquals: return .notEquals
        case .greaterThan: return .greaterThan
        case .lessThan: return .lessThan
        default: throw ParseError(message: "found '\(token.text)', expected: in, notin, =, ==, !=, gt, lt")
        }
    }

    /// `( v1, v2, … )`; empty entries are the empty value: `()` and `(a,,b)` both contain "".
    mutating func parseValueSet() throws(ParseError) -> [String] {
        let open = next()
        guard open.kind == .openParen else { throw ParseError(message: "found '\(open.text)' expected: '('") }
        let first = peek()
        switch first.kind {
        case .closeParen:
            _ = next()
            return [""]
        case .identifier, .comma:
            let values = try parseValueList()
            let close = next()
            guard close.kind == .closeParen else { throw ParseError(message: "found '\(first.text)', expected: ')'") }
            return values
        default:
            throw ParseError(message: "found '\(first.text)', expected: ',', ')' or identifier")
        }
    }

    /// The entries up to (not including) the closing parenthesis.
    mutating func parseValueList() throws(ParseError) -> [String] {
        var values: [String] = []
        while true {
            let token = next()
            switch token.kind {
            case .identifier:
                values.append(token.text)
                let following = peek()
                switch following.kind {
                case .comma: continue
                case .closeParen: return values
                default: throw ParseError(message: "found '\(following.text)', expected: ',' or ')'")
                }
            case .comma:
                if values.isEmpty { values.append("") }
                switch peek().kind {
                case .closeParen:
                    values.append("")
                    return values
                case .comma:
                    _ = next()
                    values.append("")
                default:
                    break
                }
            default:
                throw ParseError(message: "found '\(token.text)', expected: ',', or identifier")
            }
        }
    }

    /// The single value after `=`, `==`, `!=`, `>` or `<`; nothing means "".
    mutating func parseExactValue() throws(ParseError) -> [String] {
        let following = peek().kind
        if following == .end || following == .comma { return [""] }
        let token = next()
        guard token.kind == .identifier else { throw ParseError(message: "found '\(token.text)', expected: identifier") }
        return [token.text]
    }
}
