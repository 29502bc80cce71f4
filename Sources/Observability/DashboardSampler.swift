import DequeModule
import Foundation
import Informers
import PluginHost
import Prometheus
import Synchronization
import WorkQueue

/// Samples the host's metrics every `interval` and keeps the last `capacity`
/// samples, for the dashboard: queue depth over the last minutes, rates and
/// latency quantiles over short windows.
///
/// It reads the registry's own exposition (what Prometheus scrapes), so the
/// dashboard and `/metrics` always agree.
public final class DashboardSampler: Sendable {
    public let registry: MetricsRegistry
    public let interval: Duration
    public let capacity: Int
    /// Rates (adds/s, reconciles/s, …) are taken over this much history.
    public let rateWindow: Double
    /// Latency quantiles are taken over this much history.
    public let latencyWindow: Double
    let pluginOrder: [String]
    private let samples: Mutex<Deque<Sample>>

    /// - Parameter plugins: the configured plugins, in the order the page shows them.
    public init(registry: MetricsRegistry, plugins: [String] = [], interval: Duration = .seconds(2), capacity: Int = 300,
                rateWindow: Double = 10, latencyWindow: Double = 30) {
        self.registry = registry
        self.interval = interval
        self.capacity = capacity
        self.rateWindow = rateWindow
        self.latencyWindow = latencyWindow
        self.pluginOrder = plugins
        self.samples = Mutex(Deque())
    }

    /// Samples every `interval` until cancelled.
    public func run() async {
        while !Task.isCancelled {
            sample()
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// Takes one sample now.
    public func sample(at time: Double = Date().timeIntervalSince1970) {
        let sample = Sample(time: time, samples: Exposition.parse(registry.emitToBuffer()))
        samples.withLock { samples in
            samples.append(sample)
            while samples.count > capacity { samples.removeFirst() }
        }
    }

    /// The dashboard's JSON document (see `DashboardDocument`).
    public func document(readiness: Readiness) -> DashboardDocument {
        let history = samples.withLock { Array($0) }
        guard let latest = history.last else {
            return DashboardDocument(time: Date().timeIntervalSince1970, intervalSeconds: interval.seconds, ready: readiness.ready,
                                     notReady: readiness.reasons, historyTimes: [], plugins: [], informers: [])
        }
        func older(by window: Double) -> Sample? {
            guard history.count > 1 else { return nil }
            return history.last(where: { latest.time - $0.time >= window }) ?? history.first
        }
        let rateBase = older(by: rateWindow)
        let latencyBase = older(by: latencyWindow)
        var names = pluginOrder.filter { latest.plugins[$0] != nil }
        names += latest.plugins.keys.filter { !names.contains($0) }.sorted()
        let plugins = names.map { name -> DashboardDocument.Plugin in
            let now = latest.plugins[name]!
            func rate(_ value: (Sample.Plugin) -> Double) -> Double {
                guard let rateBase, let then = rateBase.plugins[name], latest.time > rateBase.time else { return 0 }
                return max(0, value(now) - value(then)) / (latest.time - rateBase.time)
            }
            let calls = Histogram.delta(now.callBuckets, latencyBase?.plugins[name]?.callBuckets ?? [])
            var point: [String: [Double]] = ["queueDepth": [], "addsPerSecond": [], "reconcilesPerSecond": [], "errorsPerSecond": []]
            for (index, sample) in history.enumerated() {
                let plugin = sample.plugins[name]
                point["queueDepth"]!.append(plugin?.depth ?? 0)
                let previous = index > 0 ? history[index - 1] : nil
                func perSecond(_ value: (Sample.Plugin) -> Double) -> Double {
                    guard let plugin, let previous, let before = previous.plugins[name], sample.time > previous.time else { return 0 }
                    return max(0, value(plugin) - value(before)) / (sample.time - previous.time)
                }
                point["addsPerSecond"]!.append(perSecond(\.adds))
                point["reconcilesPerSecond"]!.append(perSecond(\.reconciles))
                point["errorsPerSecond"]!.append(perSecond(\.errors))
            }
            return DashboardDocument.Plugin(
                name: name, queueDepth: now.depth, inFlight: now.inFlight,
                addsPerSecond: rate(\.adds), reconcilesPerSecond: rate(\.reconciles),
                latencyP50Seconds: Histogram.quantile(0.5, calls), latencyP99Seconds: Histogram.quantile(0.99, calls),
                retriesPerSecond: rate(\.retries), errorsPerSecond: rate(\.errors),
                rateLimitWaitSecondsPerSecond: ["dispatch": rate { $0.waits["dispatch"] ?? 0 }, "writes": rate { $0.waits["writes"] ?? 0 }],
                totals: ["adds": now.adds, "reconciles": now.reconciles, "retries": now.retries, "errors": now.errors],
                errors: now.errorsByKind.filter { $0.value > 0 },
                process: now.processUp.map { DashboardDocument.Process(up: $0 >= 1, restarts: now.processRestarts ?? 0) },
                history: point)
        }
        return DashboardDocument(time: latest.time, intervalSeconds: interval.seconds, ready: readiness.ready, notReady: readiness.reasons,
                                 historyTimes: history.map(\.time), plugins: plugins, informers: latest.informers)
    }

    /// What one sample keeps: per plugin and per informer, the values the page shows.
    struct Sample: Sendable {
        struct Plugin: Sendable {
            var depth = 0.0, inFlight = 0.0, adds = 0.0, retries = 0.0, reconciles = 0.0
            var errorsByKind: [String: Double] = [:]
            /// Failed reconciles, all kinds together.
            var errors: Double { errorsByKind.values.reduce(0, +) }
            var callBuckets: [(le: Double, count: Double)] = []
            var waits: [String: Double] = [:]
            var processUp: Double?
            var processRestarts: Double?
        }

        var time: Double
        var plugins: [String: Plugin] = [:]
        var informers: [DashboardDocument.Informer] = []

        /// Reconcile results that are not failures.
        static let notErrors: Set<String> = ["success", "throttled"]

        init(time: Double, samples: [ExpositionSample]) {
            self.time = time
            typealias W = WorkQueueMetricNames
            typealias P = PluginHostMetricNames
            typealias I = InformerMetricNames
            var informers: [String: DashboardDocument.Informer] = [:]
            func informer(_ labels: [String: String]) -> String {
                let key = "\(labels["resource"] ?? "")|\(labels["namespace"] ?? "")|\(labels["selector"] ?? "")"
                if informers[key] == nil {
                    informers[key] = DashboardDocument.Informer(resource: labels["resource"] ?? "", namespace: labels["namespace"] ?? "",
                                                                 selector: labels["selector"] ?? "")
                }
                return key
            }
            for sample in samples {
                if let queue = sample.labels[W.nameDimension], sample.name.hasPrefix("workqueue_") {
                    switch sample.name {
                    case W.depth: plugins[queue, default: Plugin()].depth = sample.value
                    case W.adds: plugins[queue, default: Plugin()].adds = sample.value
                    case W.retries: plugins[queue, default: Plugin()].retries = sample.value
                    default: break
                    }
                    continue
                }
                if let plugin = sample.labels["plugin"] {
                    switch sample.name {
                    case P.callsInFlight: plugins[plugin, default: Plugin()].inFlight = sample.value
                    case P.reconciles:
                        plugins[plugin, default: Plugin()].reconciles += sample.value
                        if let result = sample.labels["result"], !Self.notErrors.contains(result) {
                            plugins[plugin, default: Plugin()].errorsByKind[result, default: 0] += sample.value
                        }
                    case P.callDuration + "_bucket":
                        let le = sample.labels["le"].flatMap { $0 == "+Inf" ? Double.infinity : Double($0) } ?? .infinity
                        plugins[plugin, default: Plugin()].callBuckets.append((le, sample.value))
                    case P.rateLimitWait + "_sum":
                        plugins[plugin, default: Plugin()].waits[sample.labels["limiter"] ?? "", default: 0] += sample.value
                    case P.processUp: plugins[plugin, default: Plugin()].processUp = sample.value
                    case P.processRestarts: plugins[plugin, default: Plugin()].processRestarts = sample.value
                    default: break
                    }
                    continue
                }
                switch sample.name {
                case I.objects: informers[informer(sample.labels)]!.objects = sample.value
                case I.synced: informers[informer(sample.labels)]!.synced = sample.value >= 1
                case I.lists: informers[informer(sample.labels)]!.lists += sample.value
                case I.watchRestarts: informers[informer(sample.labels)]!.watchRestarts += sample.value
                case I.lastWatchRestart:
                    informers[informer(sample.labels)]!.lastWatchRestart = sample.value > 0 ? sample.value : nil
                default: break
                }
            }
            for name in plugins.keys { plugins[name]!.callBuckets.sort { $0.le < $1.le } }
            self.informers = informers.keys.sorted().map { informers[$0]! }
        }
    }
}

/// Quantiles from cumulative Prometheus buckets, as `histogram_quantile` computes them.
enum Histogram {
    /// `now - then` per bucket (then empty: since the start).
    static func delta(_ now: [(le: Double, count: Double)], _ then: [(le: Double, count: Double)]) -> [(le: Double, count: Double)] {
        guard then.count == now.count else { return now }
        return zip(now, then).map { ($0.le, max(0, $0.count - $1.count)) }
    }

    /// Linear interpolation inside the bucket where the rank falls; nil without observations.
    /// A rank in the +Inf bucket gives the highest finite bound.
    static func quantile(_ q: Double, _ buckets: [(le: Double, count: Double)]) -> Double? {
        guard let total = buckets.last?.count, total > 0 else { return nil }
        let rank = q * total
        var previousBound = 0.0, previousCount = 0.0
        for bucket in buckets {
            if bucket.count >= rank {
                if bucket.le == .infinity { return previousBound }
                let inBucket = bucket.count - previousCount
                guard inBucket > 0 else { return bucket.le }
                return previousBound + (bucket.le - previousBound) * (rank - previousCount) / inBucket
            }
            previousBound = bucket.le
            previousCount = bucket.count
        }
        return previousBound
    }
}

/// The JSON the dashboard page polls (`/dashboard.json`); docs/metrics.md describes it.
public struct DashboardDocument: Codable, Sendable {
    public struct Process: Codable, Sendable {
        public var up: Bool
        public var restarts: Double
    }

    public struct Plugin: Codable, Sendable {
        public var name: String
        public var queueDepth: Double
        public var inFlight: Double
        public var addsPerSecond: Double
        public var reconcilesPerSecond: Double
        public var latencyP50Seconds: Double?
        public var latencyP99Seconds: Double?
        public var retriesPerSecond: Double
        public var errorsPerSecond: Double
        public var rateLimitWaitSecondsPerSecond: [String: Double]
        public var totals: [String: Double]
        public var errors: [String: Double]
        public var process: Process?
        public var history: [String: [Double]]

        enum CodingKeys: String, CodingKey {
            case name, queueDepth, inFlight, addsPerSecond, reconcilesPerSecond, latencyP50Seconds, latencyP99Seconds, retriesPerSecond,
                 errorsPerSecond, rateLimitWaitSecondsPerSecond, totals, errors, process, history
        }

        // Explicit nulls: the page tells "no calls yet" from a missing field.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(queueDepth, forKey: .queueDepth)
            try container.encode(inFlight, forKey: .inFlight)
            try container.encode(addsPerSecond, forKey: .addsPerSecond)
            try container.encode(reconcilesPerSecond, forKey: .reconcilesPerSecond)
            try container.encode(latencyP50Seconds, forKey: .latencyP50Seconds)
            try container.encode(latencyP99Seconds, forKey: .latencyP99Seconds)
            try container.encode(retriesPerSecond, forKey: .retriesPerSecond)
            try container.encode(errorsPerSecond, forKey: .errorsPerSecond)
            try container.encode(rateLimitWaitSecondsPerSecond, forKey: .rateLimitWaitSecondsPerSecond)
            try container.encode(totals, forKey: .totals)
            try container.encode(errors, forKey: .errors)
            try container.encode(process, forKey: .process)
            try container.encode(history, forKey: .history)
        }
    }

    public struct Informer: Codable, Sendable {
        public var resource: String
        public var namespace: String
        public var selector: String
        public var objects = 0.0
        public var synced = false
        public var lists = 0.0
        public var watchRestarts = 0.0
        public var lastWatchRestart: Double?

        enum CodingKeys: String, CodingKey { case resource, namespace, selector, objects, synced, lists, watchRestarts, lastWatchRestart }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(resource, forKey: .resource)
            try container.encode(namespace, forKey: .namespace)
            try container.encode(selector, forKey: .selector)
            try container.encode(objects, forKey: .objects)
            try container.encode(synced, forKey: .synced)
            try container.encode(lists, forKey: .lists)
            try container.encode(watchRestarts, forKey: .watchRestarts)
            try container.encode(lastWatchRestart, forKey: .lastWatchRestart)
        }
    }

    public var version = 1
    public var time: Double
    public var intervalSeconds: Double
    public var ready: Bool
    public var notReady: [String]
    public var historyTimes: [Double]
    public var plugins: [Plugin]
    public var informers: [Informer]

    init(time: Double, intervalSeconds: Double, ready: Bool, notReady: [String], historyTimes: [Double], plugins: [Plugin], informers: [Informer]) {
        self.time = time
        self.intervalSeconds = intervalSeconds
        self.ready = ready
        self.notReady = notReady
        self.historyTimes = historyTimes
        self.plugins = plugins
        self.informers = informers
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
