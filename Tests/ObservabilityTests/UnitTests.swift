import Foundation
import Metrics
import Prometheus
import Testing
@testable import Observability

@Suite struct ExpositionTests {
    @Test func samplesWithEscapedLabelsAndSpecialValuesParse() {
        let text = """
            # HELP a_total Help.
            # TYPE a_total counter
            a_total{plugin="p\\"q\\\\r",result="success"} 12
            b 3.5
            c_bucket{le="+Inf"} +Inf
            broken{x="1" 2

            """
        let samples = Exposition.parse(Array(text.utf8))
        #expect(samples == [
            ExpositionSample(name: "a_total", labels: ["plugin": "p\"q\\r", "result": "success"], value: 12),
            ExpositionSample(name: "b", labels: [:], value: 3.5),
            ExpositionSample(name: "c_bucket", labels: ["le": "+Inf"], value: .infinity),
        ])
    }
}

@Suite struct HistogramQuantileTests {
    @Test func quantilesInterpolateInsideTheBucketAsPrometheusDoes() {
        let buckets: [(le: Double, count: Double)] = [(0.001, 0), (0.002, 10), (0.004, 20), (.infinity, 20)]
        #expect(Histogram.quantile(0.5, buckets) == 0.002)
        #expect(abs(Histogram.quantile(0.75, buckets)! - 0.003) < 1e-12)
        #expect(abs(Histogram.quantile(0.25, buckets)! - 0.0015) < 1e-12)
    }

    @Test func aRankInTheInfiniteBucketGivesTheHighestBoundAndNoObservationsGiveNil() {
        #expect(Histogram.quantile(0.99, [(0.1, 1), (.infinity, 10)]) == 0.1)
        #expect(Histogram.quantile(0.5, [(0.1, 0), (.infinity, 0)]) == nil)
    }

    @Test func theDeltaOfTwoSnapshotsIsTheWindowsObservations() {
        let delta = Histogram.delta([(1, 5), (.infinity, 9)], [(1, 2), (.infinity, 3)])
        #expect(delta.map(\.count) == [3, 6])
    }
}

@Suite struct FactoryTests {
    @Test func metricsGetTheCatalogsHelpTextAndBuckets() throws {
        let factory = PlugboardMetricsFactory()
        let counter = Counter(label: "workqueue_adds_total", dimensions: [("name", "p")], factory: factory)
        counter.increment(by: 3)
        let timer = Metrics.Timer(label: "plugboard_plugin_call_duration_seconds", dimensions: [("plugin", "p")], factory: factory)
        timer.recordNanoseconds(300_000)
        let text = factory.registry.emitToString()
        #expect(text.contains("# HELP workqueue_adds_total \(MetricCatalog.byName["workqueue_adds_total"]!.help)"))
        #expect(text.contains("# TYPE workqueue_adds_total counter"))
        #expect(text.contains("workqueue_adds_total{name=\"p\"} 3"))
        #expect(text.contains("# TYPE plugboard_plugin_call_duration_seconds histogram"))
        // 300 µs: not in the 250 µs bucket, in the 500 µs one.
        let samples = Exposition.parse(Array(text.utf8)).filter { $0.name == "plugboard_plugin_call_duration_seconds_bucket" }
        let bounds = samples.compactMap { Double($0.labels["le"]!) }.filter(\.isFinite)
        #expect(bounds == MetricCatalog.byName["plugboard_plugin_call_duration_seconds"]!.buckets)
        #expect(samples.first { $0.labels["le"] == "0.00025" }?.value == 0)
        #expect(samples.first { $0.labels["le"] == "0.0005" }?.value == 1)
    }

    @Test func everyCatalogEntryHasHelpAndHistogramsHaveIncreasingBuckets() {
        for definition in MetricCatalog.all {
            #expect(!definition.help.isEmpty, "\(definition.name)")
            #expect(definition.kind == .histogram ? !definition.buckets.isEmpty : definition.buckets.isEmpty, "\(definition.name)")
            #expect(zip(definition.buckets, definition.buckets.dropFirst()).allSatisfy { $0 < $1 }, "\(definition.name)")
        }
        #expect(Set(MetricCatalog.all.map(\.name)).count == MetricCatalog.all.count)
    }
}

@Suite struct SamplerTests {
    @Test func ratesHistoryAndQuantilesComeFromTheSamples() throws {
        let registry = MetricsRegistry()
        let factory = PlugboardMetricsFactory(registry: registry)
        let adds = Counter(label: "workqueue_adds_total", dimensions: [("name", "p")], factory: factory)
        let depth = Meter(label: "workqueue_depth", dimensions: [("name", "p")], factory: factory)
        let success = Counter(label: "plugboard_reconciles_total", dimensions: [("plugin", "p"), ("result", "success")], factory: factory)
        let timeouts = Counter(label: "plugboard_reconciles_total", dimensions: [("plugin", "p"), ("result", "timeout")], factory: factory)
        let calls = Metrics.Timer(label: "plugboard_plugin_call_duration_seconds", dimensions: [("plugin", "p")], factory: factory)
        let other = Meter(label: "workqueue_depth", dimensions: [("name", "a-second")], factory: factory)
        other.set(1)
        let sampler = DashboardSampler(registry: registry, plugins: ["p"], capacity: 3, rateWindow: 10, latencyWindow: 10)

        // Old calls, outside the latency window later on.
        for _ in 0..<100 { calls.recordNanoseconds(5_000_000_000) }
        sampler.sample(at: 100)
        adds.increment(by: 50)
        depth.set(7)
        success.increment(by: 40)
        timeouts.increment(by: 2)
        for _ in 0..<10 { calls.recordNanoseconds(1_500_000) }
        sampler.sample(at: 110)

        let document = sampler.document(readiness: .init(ready: false, reasons: ["x"]))
        #expect(document.ready == false && document.notReady == ["x"])
        #expect(document.plugins.map(\.name) == ["p", "a-second"])
        let plugin = try #require(document.plugins.first)
        #expect(plugin.queueDepth == 7)
        #expect(plugin.addsPerSecond == 5)
        #expect(abs(plugin.reconcilesPerSecond - 4.2) < 1e-9)
        #expect(abs(plugin.errorsPerSecond - 0.2) < 1e-9)
        #expect(plugin.errors == ["timeout": 2])
        #expect(plugin.totals["reconciles"] == 42)
        #expect(plugin.process == nil)
        // Only the 10 recent calls (1.5 ms: in the 1–2.5 ms bucket) count.
        let p50 = try #require(plugin.latencyP50Seconds)
        #expect(p50 > 0.001 && p50 < 0.0025)
        #expect(document.historyTimes == [100, 110])
        #expect(plugin.history["queueDepth"] == [0, 7])
        #expect(plugin.history["addsPerSecond"] == [0, 5])

        // The history keeps `capacity` samples.
        sampler.sample(at: 120)
        sampler.sample(at: 130)
        #expect(sampler.document(readiness: .init(ready: true, reasons: [])).historyTimes == [110, 120, 130])
    }

    @Test func theDocumentEncodesNullsForMissingLatencyAndProcess() throws {
        let registry = MetricsRegistry()
        let factory = PlugboardMetricsFactory(registry: registry)
        Meter(label: "workqueue_depth", dimensions: [("name", "idle")], factory: factory).set(0)
        let sampler = DashboardSampler(registry: registry)
        sampler.sample()
        let data = try JSONEncoder().encode(sampler.document(readiness: .init(ready: true, reasons: [])))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let plugin = try #require((object["plugins"] as? [[String: Any]])?.first)
        #expect(plugin["latencyP50Seconds"] is NSNull)
        #expect(plugin["process"] is NSNull)
        #expect(object["version"] as? Int == 1)
    }
}

/// The timers' lock-free histograms: written exactly as swift-prometheus writes its duration
/// histograms, and exact under concurrent records.
@Suite struct TimerHistogramTests {
    static let bounds: [Int64] = [10, 100, 1_000, 2_500, 1_000_000, 1_000_000_000]
    /// Below, on and above each bound, zero, negative, and above every bound.
    static let durations: [Int64] = [-5, 0, 9, 10, 11, 100, 101, 999, 1_000, 2_499, 2_500, 2_501, 999_999, 1_000_000,
                                     123_456_789, 1_000_000_000, 1_000_000_001, 7_000_000_000]

    @Test func writtenAsSwiftPrometheusWritesTheSameRecords() {
        let labels = [("name", "q\"1\\x\ny"), ("kind", "a")]
        let ours = MetricsRegistry()
        let timer = ours.timers.make(name: "t_seconds", help: "Help \\ text.", labels: labels, bounds: Self.bounds)
        let theirs = PrometheusCollectorRegistry()
        let reference = theirs.makeDurationHistogram(name: "t_seconds", labels: labels, buckets: Self.bounds.map { .nanoseconds($0) },
                                                     help: "Help \\ text.")
        for d in Self.durations {
            timer.recordNanoseconds(d)
            reference.recordNanoseconds(d)
        }
        #expect(ours.emitToString() == theirs.emitToString())
        // And the values themselves: 18 records, cumulative per bound.
        let samples = Exposition.parse(ours.emitToBuffer())
        #expect(samples.first { $0.name == "t_seconds_count" }?.value == 18)
        #expect(samples.filter { $0.name == "t_seconds_bucket" }.map(\.value) == [4, 6, 9, 11, 14, 16, 18])
        #expect(samples.first { $0.name == "t_seconds_bucket" }?.labels["name"] == "q\"1\\x\ny")
    }

    @Test func concurrentRecordsAreAllCounted() async {
        let registry = MetricsRegistry()
        let timer = registry.timers.make(name: "c_seconds", help: "", labels: [], bounds: Self.bounds)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for i in 0..<50_000 { timer.recordNanoseconds(Int64((i * 7 + worker) % 3_000)) }
                }
            }
        }
        let (cumulative, sum) = timer.snapshot()
        #expect(cumulative.last == 200_000)
        var expectedSum: Int64 = 0
        var expectedFirst = 0
        for worker in 0..<4 {
            for i in 0..<50_000 {
                let d = Int64((i * 7 + worker) % 3_000)
                expectedSum += d
                if d <= 10 { expectedFirst += 1 }
            }
        }
        #expect(sum == expectedSum)
        #expect(cumulative.first == expectedFirst)
    }

    /// 64 bits of nanoseconds overflow after 292 years of recorded time (a queue 1,000 deep gets
    /// there in about 107 days); the sum goes on exactly past them.
    @Test func theSumGoesOnPast64BitsOfNanoseconds() throws {
        let registry = MetricsRegistry()
        let timer = registry.timers.make(name: "long_seconds", help: "", labels: [], bounds: Self.bounds)
        timer.recordNanoseconds(.max)
        timer.recordNanoseconds(1)
        timer.recordNanoseconds(1_000_000_000)
        #expect(timer.snapshot().sum == Int128(Int64.max) + 1 + 1_000_000_000)
        let text = registry.emitToString()
        #expect(text.contains("long_seconds_sum 9223372037.854775808\n"), "\(text)")
        #expect(text.contains("long_seconds_count 3\n"))
        // Negative durations alone (which a monotonic clock does not give): a sum of 0, no trap.
        let negative = registry.timers.make(name: "negative_seconds", help: "", labels: [], bounds: Self.bounds)
        negative.recordNanoseconds(-10)
        #expect(registry.emitToString().contains("negative_seconds_sum 0"))
    }

    @Test func invalidNamesAndHelpAreMadeValid() {
        let registry = MetricsRegistry()
        let timer = registry.timers.make(name: "http.request-duration", help: "Two\nlines.", labels: [("a.b", "v"), ("9c", "w")], bounds: [1_000])
        timer.recordNanoseconds(5)
        let text = registry.emitToString()
        #expect(text.contains("# HELP http_request_duration Two lines.\n"))
        #expect(text.contains("# TYPE http_request_duration histogram\n"))
        #expect(text.contains(#"http_request_duration_count{a_b="v",_c="w"} 1"#), "\(text)")
    }

    @Test func aNameMadeAsATimerAndAsAnotherKindStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let factory = PlugboardMetricsFactory()
            _ = Metrics.Timer(label: "clash_seconds", factory: factory)
            _ = Counter(label: "clash_seconds", factory: factory)
        }
    }

    @Test func oneHistogramPerLabelSetUnderOneHeaderAndDestroyedOnesLeave() {
        let factory = PlugboardMetricsFactory()
        let a = Metrics.Timer(label: "workqueue_work_duration_seconds", dimensions: [("name", "a")], factory: factory)
        let b = Metrics.Timer(label: "workqueue_work_duration_seconds", dimensions: [("name", "b")], factory: factory)
        let again = factory.makeTimer(label: "workqueue_work_duration_seconds", dimensions: [("name", "a")])
        a.recordNanoseconds(5)
        again.recordNanoseconds(5)
        b.recordNanoseconds(5)
        var text = factory.registry.emitToString()
        #expect(text.components(separatedBy: "# TYPE workqueue_work_duration_seconds histogram").count == 2)
        #expect(text.contains("workqueue_work_duration_seconds_count{name=\"a\"} 2"))
        #expect(text.contains("workqueue_work_duration_seconds_count{name=\"b\"} 1"))
        // The catalog's buckets: client-go's, 10 ns to 10 s.
        let bounds = Exposition.parse(Array(text.utf8)).filter { $0.name == "workqueue_work_duration_seconds_bucket" && $0.labels["name"] == "a" }
            .compactMap { Double($0.labels["le"]!) }.filter(\.isFinite)
        #expect(bounds == MetricCatalog.byName["workqueue_work_duration_seconds"]!.buckets)
        b.destroy()
        text = factory.registry.emitToString()
        #expect(!text.contains("name=\"b\""))
        #expect(text.contains("workqueue_work_duration_seconds_count{name=\"a\"} 2"))
        a.destroy()
        #expect(!factory.registry.emitToString().contains("workqueue_work_duration_seconds"))
    }
}
