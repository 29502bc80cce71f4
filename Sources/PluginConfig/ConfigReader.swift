import Yams

/// A node of the document together with its path, for messages.
struct Located {
    let node: Node
    let path: String

    var mark: Mark? { node.mark }
}

/// The entries of one YAML mapping, after its keys were checked against the
/// names its object allows.
struct Fields {
    /// The mapping's own path and position (its first key, for block mappings).
    let path: String
    let mark: Mark?
    private let values: [String: Node]
    /// Where each key was written.
    private let keyMarks: [String: Mark]

    init(path: String, mark: Mark?, values: [String: Node], keyMarks: [String: Mark]) {
        self.path = path
        self.mark = mark
        self.values = values
        self.keyMarks = keyMarks
    }

    /// The value of `key`, or nil when it is absent. A null value is
    /// returned like any other and refused by the reader of its type: the
    /// loader and the JSON Schema treat a written `null` the same way.
    subscript(key: String) -> Located? {
        values[key].map { Located(node: $0, path: childPath(key)) }
    }

    /// Whether `key` is present.
    func has(_ key: String) -> Bool { values[key] != nil }

    /// Where `key` was written, if it was.
    func keyMark(_ key: String) -> Mark? { keyMarks[key] }

    func childPath(_ key: String) -> String { ConfigReader.path(path, key) }
}

/// Walks a composed YAML tree and records every problem it finds rather
/// than stopping at the first, so one run reports the whole file.
///
/// Readers of values return nil when the value is unusable, having recorded
/// why; a caller builds its object only if no new issue appeared while it
/// read the object's fields.
struct ConfigReader {
    let file: String
    let resolver: PathResolver
    private(set) var issues: [ConfigIssue] = []

    init(file: String, resolver: PathResolver) {
        self.file = file
        self.resolver = resolver
    }

    /// Issues in file order; issues without a position stay first.
    var sortedIssues: [ConfigIssue] {
        issues.enumerated().sorted { a, b in
            let ka = (a.element.line ?? 0, a.element.column ?? 0, a.offset)
            let kb = (b.element.line ?? 0, b.element.column ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
    }

    mutating func report(_ message: String, at path: String, mark: Mark?) {
        issues.append(ConfigIssue(file: file, line: mark?.line, column: mark?.column, path: path, message: message))
    }

    mutating func report(_ message: String, at value: Located) {
        report(message, at: value.path, mark: value.mark)
    }

    /// `parent.key`, or `key` at the root.
    static func path(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : parent + "." + key
    }

    /// `parent[index]`.
    static func path(_ parent: String, index: Int) -> String {
        "\(parent)[\(index)]"
    }

    // MARK: Structure

    /// The value as a mapping whose keys are all in `allowed`. Unknown keys
    /// are reported (with the nearest allowed name when one is close) and
    /// left out; the mapping is still returned so its known fields get checked.
    /// `hints` replaces the message for unknown names that are common mistakes.
    mutating func fields(_ value: Located, allowed: [String], hints: [String: String] = [:]) -> Fields? {
        guard case .mapping(let mapping) = value.node else {
            report("must be a mapping, got \(Self.describe(value.node))", at: value)
            return nil
        }
        var values: [String: Node] = [:]
        var keyMarks: [String: Mark] = [:]
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode, keyNode.tagName == .str else {
                if keyNode.tagName == .merge {
                    report(#"YAML merge keys ("<<") are not supported; write the fields out"#, at: value.path, mark: keyNode.mark)
                } else {
                    report("field names must be strings, got \(Self.describe(keyNode))", at: value.path, mark: keyNode.mark)
                }
                continue
            }
            let name = key.string
            guard allowed.contains(name) else {
                var message = hints[name] ?? "unknown field \"\(name)\""
                if hints[name] == nil, let suggestion = Suggestion.closest(to: name, in: allowed) {
                    message += "; did you mean \"\(suggestion)\"?"
                }
                report(message, at: Self.path(value.path, name), mark: keyNode.mark)
                continue
            }
            keyMarks[name] = keyNode.mark
            values[name] = valueNode
        }
        return Fields(path: value.path, mark: value.mark, values: values, keyMarks: keyMarks)
    }

    /// The items of a list, each with its path.
    mutating func list(_ value: Located) -> [Located]? {
        guard case .sequence(let sequence) = value.node else {
            report("must be a list, got \(Self.describe(value.node))", at: value)
            return nil
        }
        return sequence.enumerated().map { Located(node: $1, path: Self.path(value.path, index: $0)) }
    }

    /// The value of a required field, or nil after reporting that it is missing.
    mutating func require(_ fields: Fields, _ key: String) -> Located? {
        if let value = fields[key] { return value }
        report("required field is missing", at: fields.childPath(key), mark: fields.mark)
        return nil
    }

    // MARK: Scalars

    /// A string scalar. Plain scalars YAML reads as another type (`8080`,
    /// `true`, `1.0`) are refused rather than quietly turned into text, so
    /// the file means the same to Plugboard and to any YAML tool.
    mutating func string(_ value: Located) -> String? {
        guard case .scalar(let scalar) = value.node, value.node.tagName == .str else {
            var message = "must be a string, got \(Self.describe(value.node))"
            if case .scalar = value.node { message += " (quote it to use it as text)" }
            report(message, at: value)
            return nil
        }
        return scalar.string
    }

    /// A string that `check` accepts; its complaint is reported with the value.
    mutating func string(_ value: Located, _ check: (String) -> String?) -> String? {
        guard let text = string(value) else { return nil }
        if let problem = check(text) {
            report("\(problem), got \(Self.quote(text))", at: value)
            return nil
        }
        return text
    }

    /// `true` or `false` (in any of YAML's capitalizations), never `yes`/`no`
    /// or a quoted string.
    mutating func bool(_ value: Located) -> Bool? {
        if case .scalar(let scalar) = value.node, value.node.tagName == .bool {
            switch scalar.string.lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        report("must be true or false, got \(Self.describe(value.node))", at: value)
        return nil
    }

    /// An integer in `range`.
    mutating func int(_ value: Located, in range: ClosedRange<Int>) -> Int? {
        if value.node.tagName == .int, let number = value.node.int, range.contains(number) {
            return number
        }
        let expected = range.upperBound == .max
            ? "must be an integer of at least \(range.lowerBound)"
            : "must be an integer from \(range.lowerBound) to \(range.upperBound)"
        report("\(expected), got \(Self.describe(value.node))", at: value)
        return nil
    }

    /// A finite number greater than zero, integer or not.
    mutating func positiveNumber(_ value: Located) -> Double? {
        if value.node.tagName == .int || value.node.tagName == .float {
            let number = value.node.tagName == .int ? value.node.int.map(Double.init) : value.node.float
            if let number, number.isFinite, number > 0 { return number }
        }
        report("must be a number greater than 0, got \(Self.describe(value.node))", at: value)
        return nil
    }

    /// A Go-style duration string; the number `0` is also accepted, as a
    /// zero duration. With `positive`, zero is refused.
    mutating func duration(_ value: Located, positive: Bool) -> Duration? {
        let parsed: Duration
        switch value.node {
        case .scalar where value.node.tagName == .int && value.node.int == 0:
            parsed = .zero
        case .scalar(let scalar) where value.node.tagName == .str:
            do {
                parsed = try GoDuration.parse(scalar.string)
            } catch {
                report("\(error.message), got \(Self.describe(value.node))", at: value)
                return nil
            }
        default:
            report(#"must be a duration string such as "10s" or "1m30s", got \#(Self.describe(value.node))"#, at: value)
            return nil
        }
        if positive && parsed == .zero {
            report("must be greater than 0, got \(Self.describe(value.node))", at: value)
            return nil
        }
        return parsed
    }

    // MARK: Describing values

    static func isNull(_ node: Node) -> Bool {
        node.tagName == .null
    }

    /// A value as a message shows it: strings quoted, other scalars as
    /// written, collections by what they are.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if node.tagName == .null { return "null" }
            return node.tagName == .str ? quote(scalar.string) : scalar.string
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// Double-quoted, with quotes, backslashes and control characters escaped,
    /// and shortened past 80 characters.
    static func quote(_ text: String) -> String {
        var out = "\""
        for (count, scalar) in text.unicodeScalars.enumerated() {
            if count == 80 { out += "…"; break }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension Node {
    /// The resolved tag's name: what YAML reads the node as (`str`, `int`,
    /// `bool`, `null`, …); quoted scalars are always `str`.
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
