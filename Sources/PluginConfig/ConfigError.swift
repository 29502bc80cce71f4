/// One problem found in a config file: where it is and what is wrong.
///
/// Its description is the one-line form editors and CI logs understand:
/// `FILE:LINE:COLUMN: PATH: MESSAGE`, where PATH is the place inside the
/// document (`plugins[0].rateLimits.dispatch.qps`). Parts that are unknown
/// (no position for an unreadable file, no path for a YAML syntax error)
/// are left out.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    /// The file as it was named to the loader.
    public let file: String
    /// 1-based line, or nil when the problem has no place in the text.
    public let line: Int?
    /// 1-based column in Unicode scalars, or nil with `line`.
    public let column: Int?
    /// Dotted path inside the document, with `[i]` for list items; empty for
    /// problems with the document as a whole.
    public let path: String
    /// What is wrong, and where it helps, what was expected.
    public let message: String

    public init(file: String, line: Int?, column: Int?, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !path.isEmpty { text += path + ": " }
        return text + message
    }
}

/// Everything wrong with a config file. Loading never stops at the first
/// problem, so one run of `plugboard validate` shows the whole list.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, in the order they appear in the file.
    public let issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
