import CoreMetrics
import Prometheus

/// swift-metrics → Prometheus, with the help texts and histogram buckets of
/// `MetricCatalog`. Timers and aggregating recorders become histograms, meters
/// and plain recorders gauges, counters counters.
///
/// A metric missing from the catalog is still exported, without help text and
/// with the default buckets; the tests (and `promtool check metrics`) catch it.
public struct PlugboardMetricsFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    static let defaultBuckets = MetricCatalog.callBuckets

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricCatalog.byName[label]?.help ?? "")
    }

    private func buckets(_ label: String) -> [Double] {
        let buckets = MetricCatalog.byName[label]?.buckets ?? []
        return buckets.isEmpty ? Self.defaultBuckets : buckets
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets(label))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions,
                                       buckets: buckets(label).map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) })
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}

extension PlugboardMetricsFactory {
    /// Makes the process's registry, bootstraps swift-metrics with it (once per
    /// process), and sets `plugboard_build_info`. Returns the registry to serve.
    public static func bootstrap(version: String) -> PrometheusCollectorRegistry {
        let factory = PlugboardMetricsFactory()
        MetricsSystem.bootstrap(factory)
        factory.registry.makeGauge(descriptor: MetricNameDescriptor(metricName: MetricCatalog.buildInfo, unitName: "",
                                                                    helpText: MetricCatalog.byName[MetricCatalog.buildInfo]!.help),
                                   labels: [("version", version)]).set(to: 1)
        return factory.registry
    }
}
