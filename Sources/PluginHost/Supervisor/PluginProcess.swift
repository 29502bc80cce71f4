import AsyncHTTPClient
import Logging
import Metrics
import PluginConfig
import Synchronization

/// A plugin the host starts, health-checks and restarts (`command` in the config).
///
/// `run()` is the whole life: it picks a loopback port, starts the command
/// with that port in `portEnv`, polls `healthPath` until it answers 2xx, and
/// when the process exits starts it again after a backoff, until the task is
/// cancelled; then it stops the process (SIGTERM, SIGKILL after the grace
/// period) and returns once it is reaped.
///
/// Invariants:
/// - The port is picked once, on first need, and kept for every restart: the
///   plugin's `baseURL` never changes.
/// - The child leads its own process group; the group is killed when the child
///   exits and when it is stopped, so nothing it started outlives it.
/// - At most one child is alive per `PluginProcess`, and `run()` returns only
///   after it has been reaped.
/// - `state` changes only on the task running `run()`, so `onStateChange`
///   sees every change once, in order.
public final class PluginProcess: Sendable {
    /// Where the supervised process is in its life. Each case says what comes next.
    public enum State: Sendable, Hashable {
        /// Being started, or started and not yet healthy. Next: `.up` once
        /// `healthPath` answers 2xx; `.down` if it cannot be started, exits, or
        /// is still not healthy after `startTimeout` (it is then killed).
        case starting
        /// Healthy: reconciles may be sent. Next: `.down` when it exits.
        case up
        /// Not running. It exited with `exitStatus` or was killed by `signal`;
        /// both are nil when it could not be started at all. Next: `.starting`
        /// after the restart backoff.
        case down(exitStatus: Int32?, signal: Int32?)
        /// Not supervised: `run()` has not been called or has returned, and no
        /// child is left. Next: `.starting` only if `run()` is called again.
        case stopped
    }

    public let name: String
    public let command: PluginCommand
    /// How long a stopped plugin gets between SIGTERM and SIGKILL.
    public let stopGracePeriod: Duration
    /// A healthy run at least this long resets the restart backoff to its base.
    let stableRunDuration: Duration
    let logger: Logger
    let httpClient: HTTPClient
    let upGauge: Gauge
    let restartCounter: Counter
    private let status: Mutex<Status>

    private struct Status {
        var state = State.stopped
        var port: Int?
        var child: ChildProcess?
        var restarts = 0
        var running = false
        /// `run()` has returned since it last started: waiting for `.up` is pointless.
        var ended = false
        var upWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter: UInt64 = 0
        var onStateChange: (@Sendable (State) -> Void)?
    }

    /// One minute of health before a crash means the plugin is not crash-looping.
    public static let defaultStableRunDuration = Duration.seconds(60)
    public static let defaultStopGracePeriod = Duration.seconds(10)

    public convenience init(
        name: String,
        command: PluginCommand,
        logger: Logger,
        httpClient: HTTPClient,
        stopGracePeriod: Duration = PluginProcess.defaultStopGracePeriod,
        onStateChange: (@Sendable (State) -> Void)? = nil
    ) {
        self.init(
            name: name, command: command, logger: logger, httpClient: httpClient,
            stopGracePeriod: stopGracePeriod, stableRunDuration: Self.defaultStableRunDuration,
            onStateChange: onStateChange
        )
    }

    init(
        name: String,
        command: PluginCommand,
        logger: Logger,
        httpClient: HTTPClient,
        stopGracePeriod: Duration,
        stableRunDuration: Duration,
        onStateChange: (@Sendable (State) -> Void)?
    ) {
        self.name = name
        self.command = command
        self.stopGracePeriod = stopGracePeriod
        self.stableRunDuration = stableRunDuration
        var logger = logger
        logger[metadataKey: "plugin"] = "\(name)"
        self.logger = logger
        self.httpClient = httpClient
        self.status = Mutex(Status(onStateChange: onStateChange))
        self.upGauge = Gauge(label: PluginHostMetricNames.processUp, dimensions: [("plugin", name)])
        self.restartCounter = Counter(label: PluginHostMetricNames.processRestarts, dimensions: [("plugin", name)])
        upGauge.record(0)
    }

    /// `http://127.0.0.1:<port>`, the same for every restart. Reading it picks
    /// the port if `run()` has not yet; if no port can be had it says port 0,
    /// and `run()` keeps trying.
    public var baseURL: String {
        "http://127.0.0.1:\((try? reservePort()) ?? 0)"
    }

    public var state: State { status.withLock { $0.state } }

    public var isUp: Bool { state == .up }

    /// Starts after the first one, whatever ended the previous run.
    public var restarts: Int { status.withLock { $0.restarts } }

    /// The running child's process id (also its process group id), nil when none is running.
    public var pid: Int32? { status.withLock { $0.child?.pid } }

    /// Called on the supervising task at every change of `state`, in order.
    /// Keep it short: the supervisor waits for it.
    public var onStateChange: (@Sendable (State) -> Void)? {
        get { status.withLock { $0.onStateChange } }
        set { status.withLock { $0.onStateChange = newValue } }
    }

    /// Returns once the plugin is up (at once if it is). Throws
    /// `CancellationError` if the calling task is cancelled first, or if
    /// `run()` returns first.
    public func waitUntilUp() async throws {
        let id = status.withLock { status in
            defer { status.nextWaiter += 1 }
            return status.nextWaiter
        }
        try await waitForSignal(register: { continuation in
            status.withLock { status in
                if status.state == .up { return .success(()) }
                if status.ended || Task.isCancelled { return .failure(CancellationError()) }
                status.upWaiters[id] = continuation
                return nil
            }
        }, unregister: { self.status.withLock { $0.upWaiters.removeValue(forKey: id) } })
    }

    // MARK: For the run loop

    /// The port, picked on first use.
    func reservePort() throws(SpawnError) -> Int {
        try status.withLock { (status) throws(SpawnError) -> Int in
            if let port = status.port { return port }
            let port = try LoopbackPort.pickFree()
            status.port = port
            return port
        }
    }

    /// Marks the start of `run()`; false if another `run()` is in progress.
    func beginRun() -> Bool {
        status.withLock { status in
            guard !status.running else { return false }
            status.running = true
            status.ended = false
            return true
        }
    }

    /// Marks the end of `run()`: state `.stopped`, and every `waitUntilUp()` gives up.
    func endRun() {
        let waiters = status.withLock { status in
            status.running = false
            status.ended = true
            defer { status.upWaiters = [:] }
            return Array(status.upWaiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: CancellationError()) }
        enter(.stopped)
    }

    func enter(_ state: State) {
        let (waiters, callback) = status.withLock { status in
            status.state = state
            let waiters = state == .up ? Array(status.upWaiters.values) : []
            if state == .up { status.upWaiters = [:] }
            return (waiters, status.onStateChange)
        }
        upGauge.record(state == .up ? 1 : 0)
        for waiter in waiters { waiter.resume() }
        callback?(state)
    }

    func setChild(_ child: ChildProcess?) {
        status.withLock { $0.child = child }
    }

    func countRestart() {
        status.withLock { $0.restarts += 1 }
        restartCounter.increment()
    }
}
