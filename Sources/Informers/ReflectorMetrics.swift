import Foundation
import KubeClient
import Metrics

/// The names of the informer metrics (documented in docs/metrics.md). Every one
/// carries the labels `resource` (`v1/configmaps`, `apps/v1/deployments`),
/// `namespace` (empty for all namespaces) and `selector` (the label and field
/// selectors, empty for none): what identifies one shared informer, and nothing
/// unbounded.
public enum InformerMetricNames {
    /// Gauge: objects in the cache.
    public static let objects = "plugboard_informer_objects"
    /// Gauge: 1 once the first list is in the cache.
    public static let synced = "plugboard_informer_synced"
    /// Counter by `reason`: full lists (or streamed lists): `initial`, `expired` (410 Gone), `error` (after a failure).
    public static let lists = "plugboard_informer_lists_total"
    /// Counter by `reason`: watches started again after one ended: `closed` (a normal end: server timeout,
    /// cut connection), `expired` (410 Gone: a list follows), `error` (a failure: after a backoff).
    public static let watchRestarts = "plugboard_informer_watch_restarts_total"
    /// Gauge: unix time of the last watch restart.
    public static let lastWatchRestart = "plugboard_informer_last_watch_restart_timestamp_seconds"
}

/// The metric handles of one reflector, made once: the event path only sets a gauge.
final class ReflectorMetrics: Sendable {
    enum ListReason: String, CaseIterable { case initial, expired, error }
    enum RestartReason: String, CaseIterable { case closed, expired, error }

    let objects: Gauge
    let synced: Gauge
    let lastWatchRestart: Gauge
    private let lists: [ListReason: Counter]
    private let watchRestarts: [RestartReason: Counter]

    init(resource: GroupVersionResource, namespace: String?, labelSelector: String?, fieldSelector: String?) {
        let selector = [labelSelector, fieldSelector].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: ",")
        let dimensions = [("resource", "\(resource.groupVersion)/\(resource.resource)"), ("namespace", namespace ?? ""), ("selector", selector)]
        objects = Gauge(label: InformerMetricNames.objects, dimensions: dimensions)
        synced = Gauge(label: InformerMetricNames.synced, dimensions: dimensions)
        lastWatchRestart = Gauge(label: InformerMetricNames.lastWatchRestart, dimensions: dimensions)
        lists = Dictionary(uniqueKeysWithValues: ListReason.allCases.map {
            ($0, Counter(label: InformerMetricNames.lists, dimensions: dimensions + [("reason", $0.rawValue)]))
        })
        watchRestarts = Dictionary(uniqueKeysWithValues: RestartReason.allCases.map {
            ($0, Counter(label: InformerMetricNames.watchRestarts, dimensions: dimensions + [("reason", $0.rawValue)]))
        })
        synced.record(0)
        objects.record(0)
    }

    func listed(_ reason: ListReason) { lists[reason]?.increment() }

    func watchRestarted(_ reason: RestartReason) {
        watchRestarts[reason]?.increment()
        lastWatchRestart.record(Date().timeIntervalSince1970)
    }
}
