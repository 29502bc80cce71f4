import ArgumentParser
import Foundation
import Metrics
import Observability
import Prometheus
import Synchronization
import WorkQueue

/// WorkQueue throughput, in memory: (a) Add→Get→Done of distinct keys with 1 producer and
/// 4 workers, with and without metrics; (b) add calls that mostly deduplicate; (c) a rate-limited
/// retry pipeline where each key fails 3 times before it is forgotten; (s) the queue alone, holding
/// all of (a)'s keys at once, in one task (no contention).
/// "With metrics" feeds swift-prometheus (the real backend a controller would export).
/// client-go on this machine: (a) 2.3 M items/s (typed queue 2.9 M/s; 1.0 M/s with Prometheus
/// metrics), (b) 11.8 M add calls/s (typed 18.5 M/s), (c) 0.52 M gets/s.
struct WorkQueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workqueue",
        abstract: "WorkQueue: add/get/done throughput, deduplicating adds, rate-limited retries.")

    @Option(help: "Distinct keys for (a).") var items = 1_000_000
    @Option(help: "Add calls for (b).") var adds = 1_000_000
    @Option(help: "Distinct keys for (b).") var distinct = 1_000
    @Option(help: "Keys for (c); each is got 4 times.") var retryKeys = 250_000
    @Option(help: "Workers for (a) and (c).") var workers = 4
    @Option(help: "Timed runs (after one warm-up run).") var runs = 5
    @Option(help: "Scenarios to run, of a, m (a with metrics), i (a and m with the items() loop), s (a long queue in one task), b, c.")
    var only = "ambisc"

    func run() async throws {
        print("WorkQueue, \(workers) workers, runs=\(runs) (min/median)")

        if only.contains("a") {
            let plain = try await measure { try await addGetDone(metrics: nil, itemsLoop: false) }
            report("(a) add→get→done, no metrics", plain, count: items, unit: "items")
        }
        if only.contains("m") { try await withMetrics(itemsLoop: false) }
        if only.contains("i") {
            let plain = try await measure { try await addGetDone(metrics: nil, itemsLoop: true) }
            report("(a) add→get→done, no metrics, items()", plain, count: items, unit: "items")
            try await withMetrics(itemsLoop: true)
        }
        if only.contains("s") {
            let long = try await measure { try await longQueue() }
            report("(s) one task: add all, then get/done all", long, count: items, unit: "items")
        }
        if only.contains("b") {
            let idle = try await measure { try await deduplicatingAdds(withWorkers: false) }
            report("(b) adds over \(distinct) keys, no workers", idle, count: adds, unit: "adds")
            let busy = try await measure { try await deduplicatingAdds(withWorkers: true) }
            report("(b) adds over \(distinct) keys, \(workers) workers", busy, count: adds, unit: "adds")
        }
        if only.contains("c") {
            let retries = try await measure { try await retryPipeline() }
            report("(c) rate-limited retries (fail 3x)", retries, count: retryKeys * 4, unit: "gets")
        }
    }

    private func withMetrics(itemsLoop: Bool) async throws {
        let lastRegistry = Mutex<MetricsRegistry?>(nil)
        let measured = try await measure {
            let (factory, registry) = makeBenchPrometheusFactory()
            lastRegistry.withLock { $0 = registry }
            try await addGetDone(metrics: factory, itemsLoop: itemsLoop)
        }
        report("(a) add→get→done, Prometheus" + (itemsLoop ? ", items()" : " metrics"), measured,
               count: items, unit: "items")
        if let registry = lastRegistry.withLock({ $0 }) {
            print("    last run: " + exposition(registry, matching: [
                "workqueue_adds_total", "workqueue_depth", "workqueue_work_duration_seconds_count",
            ]))
        }
    }

    // MARK: (a)

    /// With `itemsLoop`, each worker runs `for await key in queue.items()` (whose `next()` is
    /// done(previous) and get in one step) instead of `while let key = await queue.get() { done }`.
    private func addGetDone(metrics factory: PlugboardMetricsFactory?, itemsLoop: Bool) async throws {
        let queue = WorkQueue<Int>(name: factory == nil ? nil : "bench", metricsFactory: factory)
        let n = items
        let processed = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var count = 0
                    if itemsLoop {
                        for await _ in queue.items() { count += 1 }
                    } else {
                        while let key = await queue.get() {
                            queue.done(key)
                            count += 1
                        }
                    }
                    return count
                }
            }
            group.addTask {
                for key in 0..<n { queue.add(key) }
                queue.shutDown()  // workers drain what is queued, then get nil
                return 0
            }
            return try await group.reduce(0, +)
        }
        guard processed == n else { throw ValidationError("processed \(processed) of \(n)") }
    }

    // MARK: (s)

    /// The queue's own cost with a long queue and no contention: one task adds every key, then
    /// takes and finishes them all, so the queue holds `items` keys at its peak.
    private func longQueue() async throws {
        let queue = WorkQueue<Int>(name: nil)
        for key in 0..<items { queue.add(key) }
        for expected in 0..<items {
            guard let key = await queue.get(), key == expected else { throw ValidationError("out of order at \(expected)") }
            queue.done(key)
        }
    }

    // MARK: (b)

    private func deduplicatingAdds(withWorkers: Bool) async throws {
        let queue = WorkQueue<Int>(name: nil)
        let n = adds, keys = distinct
        try await withThrowingTaskGroup(of: Void.self) { group in
            if withWorkers {
                for _ in 0..<workers {
                    group.addTask {
                        while let key = await queue.get() { queue.done(key) }
                    }
                }
            }
            group.addTask {
                var key = 0
                for _ in 0..<n {
                    queue.add(key)
                    key += 1
                    if key == keys { key = 0 }
                }
                queue.shutDown()
            }
            try await group.waitForAll()
        }
        if !withWorkers && queue.len != keys { throw ValidationError("queued \(queue.len) of \(keys)") }
    }

    // MARK: (c)

    private func retryPipeline() async throws {
        let queue = RateLimitedQueue<Int>(
            limiter: ExponentialFailureRateLimiter(baseDelay: .nanoseconds(1), maxDelay: .milliseconds(1)))
        let n = retryKeys
        let failures = BenchCounters(count: n)
        let progress = BenchProgress()
        let gets = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var count = 0
                    while let key = await queue.get() {
                        count += 1
                        if failures.increment(key) <= 3 {
                            queue.addRateLimited(key)
                        } else {
                            queue.forget(key)
                            if progress.finished.add(1, ordering: .relaxed).newValue == n { queue.shutDown() }
                        }
                        queue.done(key)
                    }
                    return count
                }
            }
            group.addTask {
                for key in 0..<n { queue.add(key) }
                return 0
            }
            return try await group.reduce(0, +)
        }
        guard gets == n * 4 else { throw ValidationError("got \(gets), expected \(n * 4)") }
    }

    // MARK: Measuring

    private func measure(_ body: () async throws -> Void) async throws -> Samples {
        var samples = Samples()
        for run in 0...runs {
            let start = ContinuousClock.now
            try await body()
            if run > 0 { samples.seconds.append(elapsed(start)) }  // the first run warms up
        }
        return samples
    }

    private func report(_ name: String, _ s: Samples, count: Int, unit: String) {
        print(String(format: "  %-44@ min %8.1f ms  median %8.1f ms  %6.2f M %@/s at median (best %.2f)",
                     name as NSString, s.min * 1000, s.median * 1000,
                     Double(count) / s.median / 1e6, unit as NSString, Double(count) / s.min / 1e6))
    }
}

/// Per-key attempt counters for (c), without a lock of their own.
///
/// `@unchecked Sendable` is sound here: slot `i` is read and written only by the worker that
/// holds key `i` between `get()` and `done(i)`; the queue hands a key to one worker at a time, and
/// its mutex (released in `done`, acquired in the next `get` of that key) orders one worker's
/// accesses before the next one's. The storage lives as long as the object and is never resized.
private final class BenchCounters: @unchecked Sendable {
    private let counts: UnsafeMutablePointer<Int>
    private let count: Int
    init(count: Int) {
        self.count = count
        counts = .allocate(capacity: count)
        counts.initialize(repeating: 0, count: count)
    }
    deinit { counts.deallocate() }
    func increment(_ i: Int) -> Int {
        precondition(i >= 0 && i < count)
        counts[i] += 1
        return counts[i]
    }
}

/// Keys finished in (c).
private final class BenchProgress: Sendable {
    let finished = Atomic<Int>(0)
}

// MARK: - The Prometheus backend

/// The factory `plugboard run` records into (swift-prometheus, and its own lock-free histograms for
/// timers, with client-go's buckets for the two workqueue duration histograms: 10 ns to 10 s, one
/// per power of ten), on a fresh registry.
func makeBenchPrometheusFactory() -> (PlugboardMetricsFactory, MetricsRegistry) {
    let factory = PlugboardMetricsFactory(registry: MetricsRegistry())
    return (factory, factory.registry)
}

/// The lines of a Prometheus exposition whose metric name starts with `prefix`.
func exposition(_ registry: MetricsRegistry, matching prefixes: [String]) -> String {
    registry.emitToString().split(separator: "\n")
        .filter { line in prefixes.contains { line.hasPrefix($0) } }
        .joined(separator: "; ")
}
