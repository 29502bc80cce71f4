import CoreMetrics
import Prometheus

/// swift-metrics → Prometheus, with the help texts and histogram buckets of
/// `MetricCatalog`. Timers and aggregating recorders become histograms, meters
/// and plain recorders gauges, counters counters. Timers are recorded without a
/// lock (`TimerHistogram`); the rest goes through swift-prometheus.
///
/// A metric missing from the catalog is still exported, without help text and
/// with the default buckets; the tests (and `promtool check metrics`) catch it.
public struct PlugboardMetricsFactory: MetricsFactory {
    public let registry: MetricsRegistry

    public init(registry: MetricsRegistry = MetricsRegistry()) {
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
        registry.claim(label, as: "counter")
        return registry.prometheus.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.claim(label, as: "counter")
        return registry.prometheus.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.claim(label, as: aggregate ? "value histogram" : "gauge")
        guard aggregate else { return registry.prometheus.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.prometheus.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets(label))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.claim(label, as: "gauge")
        return registry.prometheus.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.claim(label, as: "timer")
        return registry.timers.make(name: label, help: MetricCatalog.byName[label]?.help ?? "", labels: dimensions,
                             bounds: buckets(label).map { Int64(($0 * 1e9).rounded()) })
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.prometheus.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.prometheus.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.prometheus.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.prometheus.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.prometheus.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? TimerHistogram { registry.timers.remove(histogram) }
    }
}

extension PlugboardMetricsFactory {
    /// Makes the process's registry, bootstraps swift-metrics with it (once per
    /// process), and sets `plugboard_build_info`. Returns the registry to serve.
    public static func bootstrap(version: String) -> MetricsRegistry {
        let factory = PlugboardMetricsFactory()
        MetricsSystem.bootstrap(factory)
        factory.registry.prometheus.makeGauge(descriptor: MetricNameDescriptor(metricName: MetricCatalog.buildInfo, unitName: "",
                                                                    helpText: MetricCatalog.byName[MetricCatalog.buildInfo]!.help),
                                   labels: [("version", version)]).set(to: 1)
        return factory.registry
    }
}
