import Metrics
import WorkQueue

/// The names of the host's own metrics (documented in docs/metrics.md). Label
/// values are bounded: plugin names, results, action names and limiter names —
/// never a key, an object name or an error text.
public enum PluginHostMetricNames {
    /// Counter by `plugin`, `result` (`CallResult`).
    public static let calls = "plugboard_plugin_calls_total"
    /// Histogram by `plugin`: each plugin call, request sent to answer read.
    public static let callDuration = "plugboard_plugin_call_duration_seconds"
    /// Gauge by `plugin`: plugin calls in progress.
    public static let callsInFlight = "plugboard_plugin_calls_in_flight"
    /// Counter by `plugin`, `result` (`ReconcileResult`).
    public static let reconciles = "plugboard_reconciles_total"
    /// Histogram by `plugin`: a whole reconcile.
    public static let reconcileDuration = "plugboard_reconcile_duration_seconds"
    /// Counter by `plugin`, `action`, `result` (`success`, `error`, `rejected`).
    public static let actions = "plugboard_actions_total"
    /// Counter by `plugin`: updates skipped by the plugin's event filters.
    public static let eventsFiltered = "plugboard_events_filtered_total"
    /// Histogram by `plugin`, `limiter` (`dispatch`, `writes`): time spent waiting for a token.
    public static let rateLimitWait = "plugboard_rate_limit_wait_seconds"
    /// Gauge by `plugin`: 1 while a supervised plugin process is up (healthy), else 0.
    public static let processUp = "plugboard_plugin_process_up"
    /// Counter by `plugin`: restarts of a supervised plugin process.
    public static let processRestarts = "plugboard_plugin_process_restarts_total"
    /// Gauge: 1 once every informer has synced and (with leader election on) the lease has been read.
    public static let ready = "plugboard_ready"
    /// Gauge by `lease` (namespace/name): 1 while this replica holds the leader lease (only with leader election on).
    public static let isLeader = "plugboard_leader_is_leader"

    /// The `result` values of `plugboard_plugin_calls_total`.
    public static let callResults = ["success", "throttled", "error", "timeout", "invalid_response", "unreachable"]
    /// The `result` values of `plugboard_reconciles_total`: the call results, then what applying the answer gave.
    public static let reconcileResults = callResults + ["rejected", "conflict", "apply_error", "plugin_error"]
    /// The `action` values of `plugboard_actions_total`.
    public static let actionNames = ["apply", "create", "update", "patch", "delete", "status", "event", "addFinalizer", "removeFinalizer"]
    /// The `result` values of `plugboard_actions_total`.
    public static let actionResults = ["success", "error", "rejected"]
}

/// A plugin controller's metric handles. Every series a plugin can have is made
/// here, up front: the hot path only looks a handle up in an immutable
/// dictionary, and Prometheus sees zeros rather than absent series (so `rate()`
/// and alerts work from the first failure on).
final class ControllerMetrics: Sendable {
    enum Limiter: String { case dispatch, writes }

    /// A counter per result and a duration histogram: plugin calls, or whole reconciles.
    struct Outcomes: Sendable {
        let what: String
        let byResult: [String: Counter]
        /// The handle of the usual result, without a dictionary look-up.
        let success: Counter
        let duration: Metrics.Timer

        init(_ what: String, counter label: String, results: [String], duration: String, dimensions: [(String, String)]) {
            self.what = what
            byResult = Dictionary(uniqueKeysWithValues: results.map { ($0, Counter(label: label, dimensions: dimensions + [("result", $0)])) })
            success = byResult["success"]!
            self.duration = Metrics.Timer(label: duration, dimensions: dimensions, preferredDisplayUnit: .seconds)
        }

        /// Counts `result` (one of `results`) and records the time since `start` (monotonic nanoseconds).
        func record(_ result: String, sinceNanoseconds start: Int64) {
            if result == "success" {
                success.increment()
            } else {
                guard let counter = byResult[result] else { preconditionFailure("unknown \(what) result \(result)") }
                counter.increment()
            }
            duration.recordNanoseconds(MonotonicClock.nanoseconds() - start)
        }
    }

    let plugin: String
    let inFlight: Meter
    let filtered: Counter
    let calls: Outcomes
    let reconciles: Outcomes
    private let actions: [String: Counter]
    private let waits: [Limiter: Metrics.Timer]
    /// The dispatch wait, recorded on every reconcile, without a dictionary look-up.
    private let dispatchWait: Metrics.Timer

    init(plugin: String) {
        typealias Names = PluginHostMetricNames
        self.plugin = plugin
        let dimensions = [("plugin", plugin)]
        inFlight = Meter(label: Names.callsInFlight, dimensions: dimensions)
        filtered = Counter(label: Names.eventsFiltered, dimensions: dimensions)
        calls = Outcomes("plugin call", counter: Names.calls, results: Names.callResults, duration: Names.callDuration, dimensions: dimensions)
        reconciles = Outcomes("reconcile", counter: Names.reconciles, results: Names.reconcileResults, duration: Names.reconcileDuration,
                              dimensions: dimensions)
        var actions: [String: Counter] = [:]
        for action in Names.actionNames {
            for result in Names.actionResults {
                actions[Self.actionKey(action, result)] = Counter(label: Names.actions, dimensions: dimensions + [("action", action), ("result", result)])
            }
        }
        self.actions = actions
        waits = [
            .dispatch: Metrics.Timer(label: Names.rateLimitWait, dimensions: dimensions + [("limiter", "dispatch")], preferredDisplayUnit: .seconds),
            .writes: Metrics.Timer(label: Names.rateLimitWait, dimensions: dimensions + [("limiter", "writes")], preferredDisplayUnit: .seconds),
        ]
        dispatchWait = waits[.dispatch]!
        inFlight.set(0)
    }

    private static func actionKey(_ action: String, _ result: String) -> String { action + "|" + result }

    func action(_ action: String, _ result: String) {
        actions[Self.actionKey(action, result)]?.increment()
    }

    func rateLimitWait(_ limiter: Limiter, since start: ContinuousClock.Instant) {
        waits[limiter]?.recordInterval(since: start)
    }

    func rateLimitWait(_ limiter: Limiter, fromNanoseconds start: Int64, to end: Int64) {
        (limiter == .dispatch ? dispatchWait : waits[limiter])?.recordNanoseconds(end - start)
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        recordInterval(ContinuousClock.now - start)
    }

    func recordInterval(_ elapsed: Duration) {
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
