import Informers
import KubeClient
import PluginHost
import WorkQueue

/// Every metric the host exports: its Prometheus type, labels, help text and,
/// for histograms, buckets. The factory takes help texts and buckets from here;
/// docs/metrics.md documents the same list, and a test checks that what a
/// running host exports is exactly what this catalog knows.
public struct MetricDefinition: Sendable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public var name: String
    public var kind: Kind
    public var labels: [String]
    public var help: String
    /// Upper bounds in seconds (or plain values) for histograms.
    public var buckets: [Double]

    init(_ name: String, _ kind: Kind, _ labels: [String], _ help: String, buckets: [Double] = []) {
        self.name = name
        self.kind = kind
        self.labels = labels
        self.help = help
        self.buckets = buckets
    }
}

public enum MetricCatalog {
    /// client-go's workqueue buckets: 10 ns to 10 s, ×10 apart.
    static let workqueueBuckets = (0..<10).map { 1e-8 * pow10($0) }
    /// Plugin calls and reconciles: a local plugin answers in well under a millisecond.
    static let callBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    static let waitBuckets = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60]
    static let apiBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { value, _ in value * 10 } }

    public static let all: [MetricDefinition] = {
        typealias W = WorkQueueMetricNames
        typealias P = PluginHostMetricNames
        typealias I = InformerMetricNames
        typealias A = APIClientMetricNames
        let informer = ["resource", "namespace", "selector"]
        return [
            MetricDefinition(W.depth, .gauge, ["name"], "Keys waiting in the plugin's work queue."),
            MetricDefinition(W.adds, .counter, ["name"], "Keys added to the plugin's work queue (adds of a key already waiting are not counted)."),
            MetricDefinition(W.queueDuration, .histogram, ["name"], "Seconds a key waits in the queue before a worker takes it.", buckets: workqueueBuckets),
            MetricDefinition(W.workDuration, .histogram, ["name"], "Seconds a worker spends on a key: the whole reconcile.", buckets: workqueueBuckets),
            MetricDefinition(W.unfinishedWork, .gauge, ["name"], "Summed seconds of the reconciles in progress that have not finished."),
            MetricDefinition(W.longestRunningProcessor, .gauge, ["name"], "Seconds the longest reconcile in progress has been running."),
            MetricDefinition(W.retries, .counter, ["name"], "Delayed re-adds of keys: backoff retries, Retry-After waits and requeueAfterSeconds."),

            MetricDefinition(P.calls, .counter, ["plugin", "result"], "Plugin calls by result: success, throttled, error, timeout, invalid_response, unreachable."),
            MetricDefinition(P.callDuration, .histogram, ["plugin"], "Seconds from sending a reconcile request to a plugin to reading its answer.", buckets: callBuckets),
            MetricDefinition(P.callsInFlight, .gauge, ["plugin"], "Plugin calls in progress."),
            MetricDefinition(P.reconciles, .counter, ["plugin", "result"], "Reconciles by result: the call results, or rejected, conflict, apply_error, plugin_error."),
            MetricDefinition(P.reconcileDuration, .histogram, ["plugin"], "Seconds of a whole reconcile: building the request, rate-limit waits, the call and the writes.", buckets: callBuckets),
            MetricDefinition(P.actions, .counter, ["plugin", "action", "result"], "Actions of plugin answers by action and result: success, error, rejected."),
            MetricDefinition(P.eventsFiltered, .counter, ["plugin"], "Updates of primary objects skipped by the plugin's event filters."),
            MetricDefinition(P.rateLimitWait, .histogram, ["plugin", "limiter"], "Seconds spent waiting for a token of the plugin's dispatch or writes rate limiter.", buckets: waitBuckets),
            MetricDefinition(P.processUp, .gauge, ["plugin"], "1 while the plugin process the host supervises answers its health check, else 0."),
            MetricDefinition(P.processRestarts, .counter, ["plugin"], "Restarts of the plugin process the host supervises."),
            MetricDefinition(P.ready, .gauge, [], "1 once every informer has synced and, with leader election on, the lease has been read; else 0."),
            MetricDefinition(P.isLeader, .gauge, ["lease"], "1 while this replica holds the leader lease (with leader election on), else 0."),

            MetricDefinition(I.objects, .gauge, informer, "Objects in the informer's cache."),
            MetricDefinition(I.synced, .gauge, informer, "1 once the informer's first list is in its cache, else 0."),
            MetricDefinition(I.lists, .counter, informer + ["reason"], "Full lists by reason: initial, expired (410 Gone), error (after a failure)."),
            MetricDefinition(I.watchRestarts, .counter, informer + ["reason"], "Watches started again by why the last one ended: closed, expired, error."),
            MetricDefinition(I.lastWatchRestart, .gauge, informer, "Unix time of the informer's last watch restart."),

            MetricDefinition(A.requests, .counter, ["verb", "code"], "Requests to the Kubernetes API server by verb (HTTP method or WATCH) and HTTP status code, or error when none came."),
            MetricDefinition(A.duration, .histogram, ["verb"], "Seconds to the API server's response head (for a watch: until it is open).", buckets: apiBuckets),

            MetricDefinition(buildInfo, .gauge, ["version"], "Always 1; the label carries the Plugboard version."),
        ]
    }()

    public static let buildInfo = "plugboard_build_info"

    public static let byName: [String: MetricDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
