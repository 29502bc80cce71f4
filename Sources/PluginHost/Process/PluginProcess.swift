import AsyncHTTPClient
import Foundation
import Logging
import PluginConfig
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plugin the host starts and supervises (`command` in the config).
///
/// The port is picked once and kept across restarts, so the plugin's URL never
/// changes. The child runs in its own process group: stopping it stops what it
/// started too. It counts as up once its health path answers 2xx; when it exits
/// it is started again after a backoff that doubles from `restartBackoff.base`
/// to `.max`, and starts from the base again after a run of a minute or more.
/// Its stdout and stderr go to the host's log, line by line, tagged with the
/// plugin's name.
public final class PluginProcess: Sendable {
    public enum State: Sendable, Equatable {
        case starting
        case up
        case down(exitStatus: Int32?, signal: Int32?)
        case stopped
    }

    public let name: String
    public let command: PluginCommand
    let logger: Logger
    let http: HTTPClient
    let stopGrace: Duration
    let onStateChange: (@Sendable (State) -> Void)?
    private let status = Mutex(Status())

    struct Status {
        var port: Int?
        var pid: pid_t?
        var state = State.starting
        var restarts = 0
        var upWaiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
    }

    public init(name: String, command: PluginCommand, logger: Logger, httpClient: HTTPClient,
                stopGrace: Duration = .seconds(10), onStateChange: (@Sendable (State) -> Void)? = nil) {
        self.name = name
        self.command = command
        self.logger = logger
        self.http = httpClient
        self.stopGrace = stopGrace
        self.onStateChange = onStateChange
        // The port is known from the start, so that the plugin's URL can be built before it runs.
        status.withLock { $0.port = try? Self.freePort() }
    }

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(status.withLock { $0.port ?? 0 })" }
    public var isUp: Bool { status.withLock { $0.state == .up } }
    /// Starts after the first.
    public var restarts: Int { status.withLock { $0.restarts } }
    public var pid: Int32? { status.withLock { $0.pid } }
    public var state: State { status.withLock { $0.state } }

    /// Returns once the plugin answers its health check; throws if cancelled first.
    public func waitUntilUp() async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now = status.withLock { status -> (any Error)?? in
                    if status.state == .up { return .some(nil) }
                    if Task.isCancelled { return .some(CancellationError()) }
                    status.upWaiters[id] = continuation
                    return nil
                }
                switch now {
                case .some(nil): continuation.resume()
                case .some(.some(let error)): continuation.resume(throwing: error)
                case nil: break
                }
            }
        } onCancel: {
            status.withLock { $0.upWaiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    private func set(_ state: State) {
        let waiters = status.withLock { status -> [CheckedContinuation<Void, any Error>] in
            status.state = state
            guard state == .up else { return [] }
            defer { status.upWaiters = [:] }
            return Array(status.upWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
        onStateChange?(state)
    }

    /// Starts, watches and restarts the plugin until the task is cancelled;
    /// then stops it (SIGTERM to its group, SIGKILL after the grace period) and
    /// returns once it is reaped.
    public func run() async {
        var delay = command.restartBackoff.base
        var first = true
        while !Task.isCancelled {
            if !first { status.withLock { $0.restarts += 1 } }
            first = false
            let started = ContinuousClock.now
            set(.starting)
            let exit = await runOnce()
            if Task.isCancelled { break }
            set(.down(exitStatus: exit?.status, signal: exit?.signal))
            if ContinuousClock.now - started >= .seconds(60) { delay = command.restartBackoff.base }
            logger.warning("plugin process ended; restarting", metadata: ["exitStatus": "\(exit?.status.map(String.init) ?? "-")",
                                                                           "signal": "\(exit?.signal.map(String.init) ?? "-")", "restartIn": "\(delay)"])
            do { try await Task.sleep(for: delay) } catch { break }
            delay = min(delay * 2, command.restartBackoff.max)
        }
        set(.stopped)
    }

    struct Exit { var status: Int32?; var signal: Int32? }

    /// One life of the child: nil when it could not be started.
    private func runOnce() async -> Exit? {
        guard let port = status.withLock({ $0.port }) ?? (try? Self.freePort()) else {
            logger.error("no free port for the plugin")
            return nil
        }
        status.withLock { $0.port = port }
        let spawned: Spawned
        do {
            spawned = try spawn(port: port)
        } catch {
            logger.error("cannot start the plugin", metadata: ["path": "\(command.path.resolved)", "error": "\(error)"])
            return nil
        }
        status.withLock { $0.pid = spawned.pid }
        logger.info("plugin process started", metadata: ["pid": "\(spawned.pid)", "port": "\(port)"])
        forward(spawned.stdout, stream: "stdout", level: .info)
        forward(spawned.stderr, stream: "stderr", level: .warning)

        let health = Task { [self] in
            let deadline = ContinuousClock.now + command.startTimeout
            while !Task.isCancelled && ContinuousClock.now < deadline {
                if await healthy(port: port) {
                    set(.up)
                    logger.info("plugin is up")
                    return true
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        // Reap: poll waitpid so that no thread is blocked for the child's whole life.
        var exit: Exit?
        var killedForHealth = false
        while exit == nil {
            exit = Self.reap(spawned.pid)
            if exit != nil { break }
            if Task.isCancelled {
                health.cancel()
                exit = await stop(spawned.pid)
                break
            }
            if !killedForHealth, !isUp, ContinuousClock.now - spawned.started > command.startTimeout + .milliseconds(200) {
                logger.error("plugin did not answer its health check in time; stopping it",
                             metadata: ["healthPath": "\(command.healthPath)", "startTimeout": "\(command.startTimeout)"])
                killedForHealth = true
                kill(-spawned.pid, SIGKILL)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        health.cancel()
        // Whatever the plugin left behind in its group goes too.
        kill(-spawned.pid, SIGKILL)
        status.withLock { $0.pid = nil }
        return exit
    }

    /// SIGTERM to the group, SIGKILL after `stopGrace`; returns once reaped.
    private func stop(_ pid: pid_t) async -> Exit? {
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + stopGrace
        while ContinuousClock.now < deadline {
            if let exit = Self.reap(pid) {
                logger.info("plugin process stopped")
                return exit
            }
            // Not Task.sleep: the task is cancelled, and the child must still be waited for.
            usleep(20_000)
        }
        logger.warning("plugin process ignored SIGTERM; killing it", metadata: ["grace": "\(stopGrace)"])
        kill(-pid, SIGKILL)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        return Exit(status: nil, signal: SIGKILL)
    }

    private func healthy(port: Int) async -> Bool {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(command.healthPath)")
        guard let response = try? await http.execute(request, timeout: .seconds(1)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 16)
        return (200..<300).contains(response.status.code)
    }

    static func reap(_ pid: pid_t) -> Exit? {
        var raw: Int32 = 0
        let result = waitpid(pid, &raw, WNOHANG)
        guard result == pid else { return result < 0 && errno == ECHILD ? Exit(status: nil, signal: nil) : nil }
        let signal = raw & 0x7f
        return signal == 0 ? Exit(status: (raw >> 8) & 0xff, signal: nil) : Exit(status: nil, signal: signal)
    }

    // MARK: Spawning

    struct Spawned {
        var pid: pid_t
        var stdout: Int32
        var stderr: Int32
        var started: ContinuousClock.Instant
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    private func spawn(port: Int) throws -> Spawned {
        let program = try Self.locate(command.path.resolved)
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in command.env { environment[key] = value }
        environment[command.portEnv] = String(port)
        guard FileManager.default.fileExists(atPath: command.workingDirectory.resolved) else {
            throw SpawnError(description: "working directory \(command.workingDirectory.resolved) does not exist")
        }

        var out: [Int32] = [0, 0], err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for fd in [out[0], out[1], err[0], err[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        guard let addChdir = Self.addChdir else { throw SpawnError(description: "this C library cannot set a child's working directory") }
        _ = addChdir(&actions, command.workingDirectory.resolved)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = [program] + command.args
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                posix_spawn(&pid, program, &actions, &attributes, argvPointers, envPointers)
            }
        }
        close(out[1])
        close(err[1])
        guard result == 0 else {
            close(out[0])
            close(err[0])
            throw SpawnError(description: "posix_spawn \(program): \(String(cString: strerror(result)))")
        }
        return Spawned(pid: pid, stdout: out[0], stderr: err[0], started: .now)
    }

    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29 and later), looked
    /// up at run time since the Swift module does not export it.
    static let addChdir: AddChdir? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// An absolute or relative path as it is; a bare name through PATH.
    static func locate(_ path: String) throws -> String {
        if path.contains("/") {
            guard access(path, X_OK) == 0 else { throw SpawnError(description: "\(path) is not an executable file") }
            return path
        }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/\(path)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw SpawnError(description: "\(path) was not found in PATH")
    }

    /// Reads a pipe on its own thread and logs each line (at most 16 KiB of it).
    private func forward(_ fd: Int32, stream: String, level: Logger.Level) {
        let logger = self.logger
        Thread.detachNewThread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 8192)
            func emit(_ line: ArraySlice<UInt8>) {
                let text = String(decoding: line.prefix(16_384), as: UTF8.self)
                logger.log(level: level, "\(text)", metadata: ["stream": "\(stream)"])
            }
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                pending += buffer[0..<count]
                while let newline = pending.firstIndex(of: 0x0a) {
                    emit(pending[..<newline])
                    pending.removeSubrange(...newline)
                }
                if pending.count > 16_384 {
                    emit(pending[...])
                    pending.removeAll()
                }
            }
            if !pending.isEmpty { emit(pending[...]) }
            close(fd)
        }
    }

    /// A free loopback port: bound, read and released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SpawnError(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw SpawnError(description: "no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
