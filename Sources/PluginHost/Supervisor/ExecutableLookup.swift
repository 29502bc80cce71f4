#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the file a plugin command runs, the way a shell would, but with an
/// error that says what is wrong rather than posix_spawn's bare ENOENT.
enum ExecutableLookup {
    /// `program` as it is when it contains a `/` (the config reader made it
    /// absolute); otherwise the first executable file of that name in the
    /// directories of `searchPath` (the child's `PATH`). An empty `PATH` entry
    /// means the current directory, as in POSIX.
    static func resolve(_ program: String, searchPath: String?) throws(SpawnError) -> String {
        if program.contains("/") {
            try checkExecutable(program)
            return program
        }
        let directories = (searchPath ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "." : String($0) }
        var firstProblem: SpawnError?
        for directory in directories {
            let candidate = directory.hasSuffix("/") ? directory + program : directory + "/" + program
            do {
                try checkExecutable(candidate)
                return candidate
            } catch .notFound {
                continue
            } catch {
                // A file of that name that cannot run; keep looking, but say so if nothing better turns up.
                firstProblem = firstProblem ?? error
            }
        }
        throw firstProblem ?? .notFound(program: program, searched: directories)
    }

    static func checkExecutable(_ path: String) throws(SpawnError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .notFound(program: path, searched: []) }
            throw .notExecutable(program: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw .notExecutable(program: path, reason: "it is a directory") }
        guard access(path, X_OK) == 0 else {
            throw .notExecutable(program: path, reason: "no execute permission")
        }
    }

    /// Checks that `path` is a directory the child can be started in.
    static func checkDirectory(_ path: String) throws(SpawnError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .badWorkingDirectory(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw .badWorkingDirectory(path: path, reason: "not a directory")
        }
    }
}
