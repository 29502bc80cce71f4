import Yams

extension ConfigReader {
    /// An issue for a document Yams could not compose, placed where Yams
    /// stopped. Yams places a repeated mapping key at its first occurrence;
    /// the repetition is looked for in the lines below, so the issue points
    /// at the line to delete.
    func syntaxIssue(_ error: any Error, yaml: String) -> ConfigIssue {
        func issue(_ position: Position?, _ message: String) -> ConfigIssue {
            ConfigIssue(file: file, line: position?.line, column: position?.column, path: "", message: message)
        }
        guard let error = error as? YamlError else {
            return issue(nil, "YAML error: \(error)")
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return issue(Position(mark), message)
        case .reader(let problem, let offset, _, _):
            return issue(offset.map { Self.position(atCharacterOffset: $0, in: yaml) }, "cannot read the text: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = Position(context.mark)
            let repeated = Self.repeatedKeyPosition(key, after: first, in: yaml)
            return issue(repeated ?? first, "duplicate key \"\(key)\": it is already set at line \(first.line) of the same mapping")
        default:
            return issue(nil, "YAML error: \(error)")
        }
    }

    /// Line and column of a character offset, both 1-based.
    static func position(atCharacterOffset offset: Int, in text: String) -> Position {
        var line = 1, column = 1
        for character in text.prefix(offset) {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return Position(line: line, column: column)
    }

    /// Where `key` is written again in the block mapping whose first
    /// occurrence of it is at `first`: the next line, before the mapping
    /// ends, with `key:` at the same column. Nil for flow mappings and
    /// anything unusual; the caller then keeps the first position.
    static func repeatedKeyPosition(_ key: String, after first: Position, in text: String) -> Position? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let column = first.column - 1
        let candidates = [key + ":", "\"" + key + "\":", "'" + key + "':"]
        for index in first.line..<lines.count {
            let line = Array(lines[index].unicodeScalars)
            guard let start = line.firstIndex(where: { $0 != " " }), line[start] != "#" else { continue }
            if line[start] == "\r" { continue }
            if start < column { return nil }
            if start == column {
                let rest = String(String.UnicodeScalarView(line[start...]))
                if candidates.contains(where: { rest.hasPrefix($0) }) || rest.hasPrefix(key + " :") {
                    return Position(line: index + 1, column: first.column)
                }
            }
        }
        return nil
    }
}

/// A 1-based line and column; Yams' `Mark` cannot be made outside Yams.
struct Position: Equatable {
    let line: Int
    let column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ mark: Mark) {
        self.init(line: mark.line, column: mark.column)
    }
}
