import ArgumentParser
import Foundation
import Metrics
import Synchronization
import WorkQueue

/// WorkQueue throughput, in memory: (a) Add→Get→Done of distinct keys with 1 producer and
/// 4 workers, with and without metrics; (b) add calls that mostly deduplicate; (c) a rate-limited
/// retry pipeline where each key fails 3 times before it is forgotten.
/// client-go on this machine: (a) 2.3 M items/s (1.0 M/s with Prometheus metrics),
/// (b) 11.8 M add calls/s, (c) 0.52 M gets/s.
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

    func run() async throws {
        print("WorkQueue, \(workers) workers, runs=\(runs) (min/median)")

        let plain = try await measure { try await addGetDone(metrics: nil) }
        report("(a) add→get→done, no metrics", plain, count: items, unit: "items")
        let factory = BenchMetricsFactory()
        let measured = try await measure { try await addGetDone(metrics: factory) }
        report("(a) add→get→done, with metrics", measured, count: items, unit: "items")
        print("    metrics seen: \(factory.summary)")

        let idle = try await measure { try await deduplicatingAdds(withWorkers: false) }
        report("(b) adds over \(distinct) keys, no workers", idle, count: adds, unit: "adds")
        let busy = try await measure { try await deduplicatingAdds(withWorkers: true) }
        report("(b) adds over \(distinct) keys, \(workers) workers", busy, count: adds, unit: "adds")

        let retries = try await measure { try await retryPipeline() }
        report("(c) rate-limited retries (fail 3x)", retries, count: retryKeys * 4, unit: "gets")
    }

    // MARK: (a)

    private func addGetDone(metrics factory: BenchMetricsFactory?) async throws {
        let queue = WorkQueue<Int>(name: factory == nil ? nil : "bench", metricsFactory: factory)
        let n = items
        let processed = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var count = 0
                    while let key = await queue.get() {
                        queue.done(key)
                        count += 1
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

// MARK: - A metrics backend that does real work per call

/// Counts and sums what it is given, like a Prometheus client would (counters are atomic,
/// histograms keep buckets under a lock), so "with metrics" pays a realistic cost.
final class BenchMetricsFactory: MetricsFactory {
    final class CounterHandlerImpl: CounterHandler {
        let value = Atomic<Int64>(0)
        func increment(by amount: Int64) { value.add(amount, ordering: .relaxed) }
        func reset() { value.store(0, ordering: .relaxed) }
    }

    final class MeterHandlerImpl: MeterHandler {
        let value = Mutex<Double>(0)
        func set(_ v: Int64) { value.withLock { $0 = Double(v) } }
        func set(_ v: Double) { value.withLock { $0 = v } }
        func increment(by amount: Double) { value.withLock { $0 += amount } }
        func decrement(by amount: Double) { value.withLock { $0 -= amount } }
    }

    /// A histogram with Prometheus' default buckets (seconds), or a plain gauge.
    final class RecorderHandlerImpl: RecorderHandler {
        static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        struct Histogram {
            var buckets = [Int](repeating: 0, count: RecorderHandlerImpl.bounds.count + 1)
            var count = 0
            var sum = 0.0
            var last = 0.0
        }
        let state = Mutex(Histogram())
        let aggregate: Bool
        init(aggregate: Bool) { self.aggregate = aggregate }
        func record(_ v: Int64) { record(Double(v)) }
        func record(_ v: Double) {
            let bucket = aggregate ? (Self.bounds.firstIndex { v <= $0 } ?? Self.bounds.count) : 0
            state.withLock { h in
                h.last = v
                guard aggregate else { return }
                h.buckets[bucket] += 1
                h.count += 1
                h.sum += v
            }
        }
    }

    final class TimerHandlerImpl: TimerHandler {
        let recorder = RecorderHandlerImpl(aggregate: true)
        func recordNanoseconds(_ duration: Int64) { recorder.record(Double(duration) / 1e9) }
    }

    private let made = Mutex<[String: any AnyObject & Sendable]>([:])

    private func remember<H: AnyObject & Sendable>(_ label: String, _ handler: H) -> H {
        made.withLock { $0[label] = handler }
        return handler
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        remember(label, CounterHandlerImpl())
    }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        remember(label, MeterHandlerImpl())
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        remember(label, RecorderHandlerImpl(aggregate: aggregate))
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        remember(label, TimerHandlerImpl())
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    /// The last queue's adds and work-duration count, to show the metrics were fed.
    var summary: String {
        made.withLock { m in
            let adds = (m["workqueue_adds_total"] as? CounterHandlerImpl)?.value.load(ordering: .relaxed) ?? 0
            let work = (m["workqueue_work_duration_seconds"] as? RecorderHandlerImpl)?.state.withLock { $0.count } ?? 0
            return "workqueue_adds_total=\(adds) workqueue_work_duration_seconds count=\(work)"
        }
    }
}
