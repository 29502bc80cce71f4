#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// C library calls the Swift module does not export (glibc declares them only
/// under `_GNU_SOURCE`, or they are variadic), looked up once at run time.
/// Each is nil where the C library lacks it, and callers have a fallback.
enum SystemCalls {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutableRawPointer, UnsafePointer<CChar>) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
    typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32

    /// `pipe2` (glibc): a pipe whose ends are close-on-exec from the start, so
    /// no other child spawned meanwhile by another thread inherits them.
    static let pipe2: Pipe2? = symbol("pipe2")
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29, macOS 10.15).
    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34): the child
    /// keeps only stdin, stdout and stderr, whatever else the host left inheritable.
    static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    /// `prctl` (Linux). Variadic in C; every argument it takes is an integer, which
    /// the x86-64 and arm64 Linux calling conventions pass alike either way.
    static let prctl: Prctl? = symbol("prctl")

    private static func symbol<F>(_ name: String) -> F? {
        #if canImport(Darwin)
        let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
        let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #endif
        guard let address = dlsym(everywhere, name) else { return nil }
        return unsafeBitCast(address, to: F.self)
    }

    /// A pipe, both ends close-on-exec: (read end, write end).
    static func makePipe() throws(SpawnError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        if let pipe2 {
            guard pipe2(&fds, O_CLOEXEC) == 0 else { throw .system("pipe2", errno) }
        } else {
            // Without pipe2 there is a short window in which a child spawned by
            // another thread may inherit these ends; closefrom (or exec) ends it.
            guard pipe(&fds) == 0 else { throw .system("pipe", errno) }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        }
        return (fds[0], fds[1])
    }

    /// Makes this process the reaper of its orphaned descendants (Linux
    /// `PR_SET_CHILD_SUBREAPER`), once. Returns whether it is one.
    ///
    /// A plugin's own children outlive it for an instant when its group is
    /// killed; without this they are handed to PID 1, which inside a container
    /// is often a program that never reaps, and they stay zombies. As a
    /// subreaper the host gets them back and reaps them by process group.
    static let becomeSubreaper: Bool = {
        #if os(Linux)
        let PR_SET_CHILD_SUBREAPER: Int32 = 36  // <linux/prctl.h>
        guard let prctl else { return false }
        return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        #else
        return false
        #endif
    }()
}

/// Why a plugin process could not be started.
public enum SpawnError: Error, Equatable, CustomStringConvertible {
    /// The program was not found: a path that does not exist, or a bare name in no `PATH` directory.
    case notFound(program: String, searched: [String])
    /// The program exists but is a directory or lacks execute permission.
    case notExecutable(program: String, reason: String)
    /// The working directory does not exist or is not a directory.
    case badWorkingDirectory(path: String, reason: String)
    /// The C library cannot set a child's working directory (glibc before 2.29).
    case noChdirSupport
    /// A system call failed.
    case system(_ call: String, _ code: Int32)

    public var description: String {
        switch self {
        case .notFound(let program, let searched) where searched.isEmpty:
            "\(program) does not exist"
        case .notFound(let program, let searched):
            "\(program) was not found in PATH (\(searched.joined(separator: ":")))"
        case .notExecutable(let program, let reason):
            "\(program) cannot be executed: \(reason)"
        case .badWorkingDirectory(let path, let reason):
            "working directory \(path) is unusable: \(reason)"
        case .noChdirSupport:
            "this C library cannot start a process in another directory (glibc 2.29 or later is needed)"
        case .system(let call, let code):
            "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
