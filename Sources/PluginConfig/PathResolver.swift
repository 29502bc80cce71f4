import Foundation

/// Resolves paths written in a config file against the file's directory, so
/// a config means the same thing whatever directory the host starts in.
/// Resolution is lexical: `.` and `..` are folded, symbolic links and `~`
/// are left alone.
struct PathResolver: Sendable, Hashable {
    /// Absolute and normalized.
    let baseDirectory: String

    init(baseDirectory: String) {
        self.baseDirectory = Self.absolute(baseDirectory)
    }

    /// `path` made absolute against the base directory.
    func resolve(_ path: String) -> ResolvedPath {
        let resolved = path.hasPrefix("/") ? Self.normalize(path) : Self.normalize(baseDirectory + "/" + path)
        return ResolvedPath(written: path, resolved: resolved)
    }

    /// A program to run: a bare name stays as it is for a `PATH` lookup; a
    /// name with a `/` is resolved like any other path.
    func resolveProgram(_ path: String) -> ResolvedPath {
        path.contains("/") ? resolve(path) : ResolvedPath(written: path, resolved: path)
    }

    /// `path` made absolute against the current directory.
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? normalize(path) : normalize(FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// The absolute directory holding `file`.
    static func directory(ofFile file: String) -> String {
        let path = absolute(file)
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// Folds `.`, `..` and repeated slashes of an absolute path.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
