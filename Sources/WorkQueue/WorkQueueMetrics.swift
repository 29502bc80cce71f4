import Metrics

/// The metrics of one named queue, with client-go's names and meanings; every metric
/// carries the dimension `name` = the queue's name.
///
/// - `workqueue_depth` (meter): items marked dirty and not yet handed out by `get()`.
/// - `workqueue_adds_total` (counter): adds that were not deduplicated away.
/// - `workqueue_queue_duration_seconds` (timer): time from add to `get()`.
/// - `workqueue_work_duration_seconds` (timer): time from `get()` to `done`.
/// - `workqueue_unfinished_work_seconds` (gauge, seconds): summed age of all in-flight
///   processing, set by `updateUnfinishedWork()`.
/// - `workqueue_longest_running_processor_seconds` (gauge, seconds): age of the oldest
///   in-flight processing, set by `updateUnfinishedWork()`.
/// - `workqueue_retries_total` (counter): calls to `add(_:after:)` (hence to `addRateLimited`).
public struct WorkQueueMetricNames: Sendable {
    public static let depth = "workqueue_depth"
    public static let adds = "workqueue_adds_total"
    public static let queueDuration = "workqueue_queue_duration_seconds"
    public static let workDuration = "workqueue_work_duration_seconds"
    public static let unfinishedWork = "workqueue_unfinished_work_seconds"
    public static let longestRunningProcessor = "workqueue_longest_running_processor_seconds"
    public static let retries = "workqueue_retries_total"
    /// The dimension that carries the queue's name.
    public static let nameDimension = "name"
}

/// Where a queue's metrics go: a name, and the factory (the global `MetricsSystem.factory` when nil).
public struct WorkQueueMetricsConfiguration: Sendable {
    public var name: String
    public var factory: (any MetricsFactory)?

    public init(name: String, factory: (any MetricsFactory)? = nil) {
        self.name = name
        self.factory = factory
    }
}

/// The metric handles of one queue, created once with the queue: the hot path only calls the
/// handlers it holds, and never creates or looks up a metric.
///
/// The depth is a `Meter` (a Prometheus gauge) moved by increments and decrements rather than
/// set to a count: updates made outside the queue's lock may then arrive in any order and still
/// add up to the true depth.
@usableFromInline
final class WorkQueueMetrics: Sendable {
    @usableFromInline let depth: Meter
    @usableFromInline let adds: Counter
    @usableFromInline let queueDuration: Timer
    @usableFromInline let workDuration: Timer
    let unfinishedWork: Gauge
    let longestRunningProcessor: Gauge

    init(_ configuration: WorkQueueMetricsConfiguration) {
        let factory = configuration.factory ?? MetricsSystem.factory
        let dimensions = [(WorkQueueMetricNames.nameDimension, configuration.name)]
        depth = Meter(label: WorkQueueMetricNames.depth, dimensions: dimensions, factory: factory)
        adds = Counter(label: WorkQueueMetricNames.adds, dimensions: dimensions, factory: factory)
        queueDuration = Timer(label: WorkQueueMetricNames.queueDuration, dimensions: dimensions,
                              preferredDisplayUnit: .seconds, factory: factory)
        workDuration = Timer(label: WorkQueueMetricNames.workDuration, dimensions: dimensions,
                             preferredDisplayUnit: .seconds, factory: factory)
        unfinishedWork = Gauge(label: WorkQueueMetricNames.unfinishedWork, dimensions: dimensions, factory: factory)
        longestRunningProcessor = Gauge(label: WorkQueueMetricNames.longestRunningProcessor, dimensions: dimensions, factory: factory)
    }

    static func retries(_ configuration: WorkQueueMetricsConfiguration) -> Counter {
        Counter(label: WorkQueueMetricNames.retries,
                dimensions: [(WorkQueueMetricNames.nameDimension, configuration.name)],
                factory: configuration.factory ?? MetricsSystem.factory)
    }
}
