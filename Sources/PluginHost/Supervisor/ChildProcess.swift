import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a process ended: an exit status or the signal that killed it.
struct ExitStatus: Sendable, Hashable, CustomStringConvertible {
    var code: Int32?
    var signal: Int32?

    /// Decodes a `waitpid` status (the WIFEXITED / WTERMSIG macros, which Swift does not import).
    init(waitStatus raw: Int32) {
        let signal = raw & 0x7f
        if signal == 0 {
            self.init(code: (raw >> 8) & 0xff, signal: nil)
        } else {
            self.init(code: nil, signal: signal)
        }
    }

    init(code: Int32?, signal: Int32?) {
        self.code = code
        self.signal = signal
    }

    var description: String {
        if let code { return "exit status \(code)" }
        if let signal { return "signal \(signal) (\(Self.signalName(signal)))" }
        return "unknown status"
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGQUIT: "SIGQUIT"
        case SIGILL: "SIGILL"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGPIPE: "SIGPIPE"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}

/// What to start: everything resolved, nothing left to look up.
struct LaunchSpec: Sendable {
    /// Path of the executable file.
    var executable: String
    /// `argv`, including `argv[0]`.
    var arguments: [String]
    /// The whole environment of the child.
    var environment: [String: String]
    var workingDirectory: String
}

/// A child process leading its own process group, and the one thread that reaps it.
///
/// Invariants:
/// - Only this type's reaper thread waits for the child or for members of its
///   group; nothing else in the host calls `waitpid` on them.
/// - The group is signalled from outside only while its leader is unreaped:
///   the leader's zombie keeps the group id from being given to anyone else.
/// - `exit` is set once, after the leader is reaped and its group is empty
///   (or what is left of it is not the host's to reap).
///
/// Why a thread blocked in `waitid` rather than polling `waitpid(WNOHANG)`
/// from the async task: the exit is seen at once, not on the next tick; the
/// `WNOWAIT` peek lets the leftover group be killed while the leader's zombie
/// still pins the group id; and the supervisor's task only awaits a
/// continuation, so shutdown waits (which must outlast task cancellation)
/// need no non-cancellable sleep loop. One parked thread per plugin is cheap.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let state = Mutex(State())

    private struct State {
        var exit: ExitStatus?
        /// Set by the reaper the moment the leader is reaped; no outside signals after that.
        var leaderReaped = false
        /// Members of the group still present after the leader was reaped that
        /// the host could not reap (they were not its children).
        var strays = false
        var waiters: [UInt64: CheckedContinuation<ExitStatus?, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    /// How long the reaper keeps killing and reaping the group after its leader died.
    static let groupCleanupLimit = Duration.seconds(2)

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `spec` in a new process group, stdin from /dev/null, stdout and
    /// stderr into pipes whose read ends are returned. Signal mask and
    /// dispositions are reset to defaults (the host ignores SIGPIPE; its child
    /// should not inherit that).
    static func spawn(_ spec: LaunchSpec) throws(SpawnError) -> (child: ChildProcess, stdout: Int32, stderr: Int32) {
        _ = SystemCalls.becomeSubreaper
        guard let addChdir = SystemCalls.addChdir else { throw .noChdirSupport }
        let out = try SystemCalls.makePipe()
        let err: (read: Int32, write: Int32)
        do {
            err = try SystemCalls.makePipe()
        } catch {
            close(out.read)
            close(out.write)
            throw error
        }

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        let chdirResult = withUnsafeMutablePointer(to: &actions) { addChdir(UnsafeMutableRawPointer($0), spec.workingDirectory) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // dup2 clears close-on-exec on the target, so only these two survive exec.
        posix_spawn_file_actions_adddup2(&actions, out.write, 1)
        posix_spawn_file_actions_adddup2(&actions, err.write, 2)
        if let addCloseFrom = SystemCalls.addCloseFrom {
            _ = withUnsafeMutablePointer(to: &actions) { addCloseFrom(UnsafeMutableRawPointer($0), 3) }
        }

        // Process group = the child's own pid: one kill(-pid) reaches everything it starts.
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let environment = spec.environment.map { "\($0.key)=\($0.value)" }
        let result: Int32 = chdirResult != 0 ? chdirResult : withCStringArray(spec.arguments) { argv in
            withCStringArray(environment) { envp in
                posix_spawn(&pid, spec.executable, &actions, &attributes, argv, envp)
            }
        }
        close(out.write)
        close(err.write)
        guard result == 0 else {
            close(out.read)
            close(err.read)
            throw .system("posix_spawn \(spec.executable)", result)
        }
        let child = ChildProcess(pid: pid)
        Thread.detachNewThread { child.reap() }
        return (child, out.read, err.read)
    }

    /// How the child ended, once it has been reaped.
    var exit: ExitStatus? { state.withLock { $0.exit } }

    /// Whether members of the group outlived the leader and could not be reaped by the host.
    var leftStrays: Bool { state.withLock { $0.strays } }

    /// Sends `signal` to the child's whole process group, unless the child is already reaped.
    func signalGroup(_ signal: Int32) {
        state.withLock { state in
            if !state.leaderReaped { _ = kill(-pid, signal) }
        }
    }

    /// Waits until the child is reaped and returns how it ended; returns nil
    /// instead once `deadline` passes, or, when `cancellable`, once the
    /// calling task is cancelled. A wait that is not cancellable outlasts the
    /// task's cancellation: shutdown uses it to wait for the child it stops.
    func waitForExit(until deadline: ContinuousClock.Instant? = nil, cancellable: Bool) async -> ExitStatus? {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let timer = deadline.map { deadline in
            Task.detached { [self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                resume(id, with: nil)
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ExitStatus?, Never>) in
                let now: ExitStatus?? = state.withLock { state in
                    if let exit = state.exit { return .some(exit) }
                    if cancellable && Task.isCancelled { return .some(nil) }
                    if let deadline, deadline <= .now { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            if cancellable { resume(id, with: nil) }
        }
    }

    private func resume(_ id: UInt64, with exit: ExitStatus?) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: exit)
    }

    // MARK: Reaping (on the reaper thread only)

    private func reap() {
        var info = siginfo_t()
        // Peek, without reaping: the leader's zombie keeps the group id ours while the rest is killed.
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
            guard errno == EINTR else { break }  // ECHILD: reaped behind our back; collect what is left below.
        }
        var leader: ExitStatus?
        let giveUp = ContinuousClock.now + Self.groupCleanupLimit
        while true {
            let groupGone: Bool = state.withLock { state in
                // Whatever the leader left behind in its group dies with it.
                _ = kill(-pid, SIGKILL)
                var raw: Int32 = 0
                while true {
                    let reaped = waitpid(-pid, &raw, WNOHANG)
                    if reaped == pid {
                        leader = ExitStatus(waitStatus: raw)
                        state.leaderReaped = true
                    } else if reaped > 0 || (reaped < 0 && errno == EINTR) {
                        continue
                    } else {
                        break  // 0: members left, none dead yet; ECHILD: no child of ours in the group.
                    }
                }
                return kill(-pid, 0) != 0 && errno == ESRCH
            }
            // Members left that are not our children (the host is no subreaper) are not ours to wait for.
            if groupGone || ContinuousClock.now >= giveUp { break }
            usleep(2_000)
        }
        if leader == nil && !state.withLock({ $0.leaderReaped }) {
            var raw: Int32 = 0
            var reaped: pid_t
            repeat { reaped = waitpid(pid, &raw, 0) } while reaped < 0 && errno == EINTR
            leader = reaped == pid ? ExitStatus(waitStatus: raw) : nil
        }
        let waiters = state.withLock { state in
            state.leaderReaped = true
            state.strays = kill(-pid, 0) == 0
            let exit = leader ?? ExitStatus(code: nil, signal: nil)
            state.exit = exit
            defer { state.waiters = [:] }
            return state.waiters.values.map { ($0, exit) }
        }
        for (waiter, exit) in waiters { waiter.resume(returning: exit) }
    }
}

/// Calls `body` with a NULL-terminated array of C strings, as argv and envp are.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
