import Metrics
import Synchronization

/// A plugin controller's metrics (listed in docs/operations.md). Label values are bounded:
/// plugin names, results, action names and limiter names — never a key or an
/// error text.
final class ControllerMetrics: Sendable {
    enum Limiter: String { case dispatch, writes }

    let plugin: String
    let inFlight: Meter
    let filtered: Counter
    let callDuration: Metrics.Timer
    let reconcileDuration: Metrics.Timer
    private let counters = Mutex<[String: Counter]>([:])
    private let waits: [Limiter: Metrics.Timer]

    init(plugin: String) {
        self.plugin = plugin
        inFlight = Meter(label: "plugboard_plugin_calls_in_flight", dimensions: [("plugin", plugin)])
        filtered = Counter(label: "plugboard_events_filtered_total", dimensions: [("plugin", plugin)])
        callDuration = Metrics.Timer(label: "plugboard_plugin_call_duration_seconds", dimensions: [("plugin", plugin)], preferredDisplayUnit: .seconds)
        reconcileDuration = Metrics.Timer(label: "plugboard_reconcile_duration_seconds", dimensions: [("plugin", plugin)], preferredDisplayUnit: .seconds)
        waits = [
            .dispatch: Metrics.Timer(label: "plugboard_rate_limit_wait_seconds", dimensions: [("plugin", plugin), ("limiter", "dispatch")], preferredDisplayUnit: .seconds),
            .writes: Metrics.Timer(label: "plugboard_rate_limit_wait_seconds", dimensions: [("plugin", plugin), ("limiter", "writes")], preferredDisplayUnit: .seconds),
        ]
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let id = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return counters.withLock { counters in
            if let counter = counters[id] { return counter }
            let counter = Counter(label: label, dimensions: dimensions)
            counters[id] = counter
            return counter
        }
    }

    func called(_ result: String, since start: ContinuousClock.Instant) {
        counter("plugboard_plugin_calls_total", [("plugin", plugin), ("result", result)]).increment()
        callDuration.recordInterval(since: start)
    }

    func reconciled(_ result: String, since start: ContinuousClock.Instant) {
        counter("plugboard_reconciles_total", [("plugin", plugin), ("result", result)]).increment()
        reconcileDuration.recordInterval(since: start)
    }

    func action(_ action: String, _ result: String) {
        counter("plugboard_actions_total", [("plugin", plugin), ("action", action), ("result", result)]).increment()
    }

    func rateLimitWait(_ limiter: Limiter, since start: ContinuousClock.Instant) {
        waits[limiter]?.recordInterval(since: start)
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
