import KubeClient
import Logging
import Synchronization

/// Warning Events on the primary object for failed reconciles and rejected
/// actions, limited so that a hot failure cannot flood the API server: the
/// same key and reason at most once a minute, and at most `burst` events per
/// plugin in any `window`.
final class FailureEvents: Sendable {
    let applier: ActionApplier
    let logger: Logger
    let repeatInterval: Duration
    let window: Duration
    let burst: Int

    struct State {
        var lastSent: [String: ContinuousClock.Instant] = [:]
        var windowStart: ContinuousClock.Instant = .now
        var sentInWindow = 0
    }

    private let state = Mutex(State())

    init(applier: ActionApplier, logger: Logger, repeatInterval: Duration = .seconds(60), window: Duration = .seconds(10), burst: Int = 10) {
        self.applier = applier
        self.logger = logger
        self.repeatInterval = repeatInterval
        self.window = window
        self.burst = burst
    }

    /// Whether an event for this key and reason may be sent now; counts it if so.
    func admit(key: ReconcileKey, reason: String, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            let id = "\(key)|\(reason)"
            if let last = state.lastSent[id], now - last < repeatInterval { return false }
            if now - state.windowStart >= window {
                state.windowStart = now
                state.sentInWindow = 0
                // Forget entries old enough not to matter, so the map stays small.
                state.lastSent = state.lastSent.filter { now - $0.value < repeatInterval }
            }
            guard state.sentInWindow < burst else { return false }
            state.sentInWindow += 1
            state.lastSent[id] = now
            return true
        }
    }

    func record(key: ReconcileKey, primary: KubeObject?, reason: String, message: String) async {
        guard let primary, admit(key: key, reason: reason) else { return }
        do {
            try await applier.apply([.event(type: .warning, reason: reason, message: String(message.prefix(1024)))], key: key, primary: primary)
        } catch {
            logger.debug("could not record a failure event", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }
}
