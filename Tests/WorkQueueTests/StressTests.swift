import Synchronization
import SeededRandom
import Testing
import WorkQueue

/// A stress run shared by the worker loops: producers add random keys while workers take them,
/// each worker recording in one ticket order what it starts and finishes; then the checks every
/// loop must pass (no key on two workers at once, no add lost, metrics that add up).
struct StressRun {
    /// What the workers and producers saw, in one ticket order.
    struct Ledger {
        var ticket = 0
        var inFlight: Set<Int> = []
        var lastStart: [Int: Int] = [:]
        var lastAddBegin: [Int: Int] = [:]
        var overlaps: [Int] = []
        var processed = 0
    }

    let producers = 4, workers = 8, addsPerProducer = 20_000
    let keys: Int
    let withMetrics: Bool
    let factory = TestMetricsFactory()
    let q: WorkQueue<Int>
    let ledger = Box(Ledger())

    init(keys: Int, withMetrics: Bool) {
        self.keys = keys
        self.withMetrics = withMetrics
        q = WorkQueue<Int>(name: withMetrics ? "stress" : nil, metricsFactory: factory)
    }

    /// The work on one key, between the worker getting it and marking it done.
    func process(_ key: Int) async {
        let overlap = ledger.update { l in
            l.ticket += 1
            l.lastStart[key] = l.ticket
            l.processed += 1
            return !l.inFlight.insert(key).inserted
        }
        if overlap { ledger.update { $0.overlaps.append(key) } }
        if keys < 10 || key % 3 == 0 { await Task.yield() }
        ledger.update { _ = $0.inFlight.remove(key) }
    }

    /// Runs `worker` on `workers` tasks while the producers add (seeded by `seed`), until all is processed;
    /// then `finish` shuts the queue down.
    func run(seed: UInt64, settle: Double, worker: @escaping @Sendable () async -> Void, finish: @escaping @Sendable () async -> Void) async {
        let (producers, addsPerProducer, keys, q, ledger) = (self.producers, self.addsPerProducer, self.keys, self.q, self.ledger)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers { group.addTask(operation: worker) }
            await withTaskGroup(of: Void.self) { producersGroup in
                for p in 0..<producers {
                    producersGroup.addTask {
                        var rng = SplitMix(seed: UInt64(p) + seed)
                        for i in 0..<addsPerProducer {
                            let key = Int(rng.next() % UInt64(keys))
                            ledger.update { l in
                                l.ticket += 1
                                l.lastAddBegin[key] = l.ticket
                            }
                            q.add(key)
                            if i % 64 == 0 { await Task.yield() }
                        }
                    }
                }
            }
            await waitUntil(settle) { q.len == 0 && q.processingCount == 0 }
            await finish()
        }
    }

    /// The checks every worker loop must pass.
    func check() {
        let l = ledger.update { $0 }
        #expect(l.overlaps.isEmpty, "keys processed by two workers at once: \(l.overlaps.prefix(10))")
        var lost: [Int] = []
        for (key, added) in l.lastAddBegin where (l.lastStart[key] ?? 0) < added { lost.append(key) }
        #expect(lost.isEmpty, "keys added after their last processing start and never processed again: \(lost.prefix(10))")
        #expect(l.processed >= keys)
        #expect(l.processed <= producers * addsPerProducer)
        if withMetrics {
            let adds = factory.counter(WorkQueueMetricNames.adds, queue: "stress") ?? -1
            #expect(adds == Int64(l.processed), "every counted add was processed exactly once")
            #expect(factory.meter(WorkQueueMetricNames.depth, queue: "stress") == 0)
            #expect(factory.timed(WorkQueueMetricNames.workDuration, queue: "stress")?.count == l.processed)
        }
    }
}

@Suite("Stress")
struct StressTests {
    /// Many keys (workers rarely wait) and few keys (workers often wait and are handed items).
    @Test(arguments: [(false, 200), (true, 200), (false, 6), (true, 6)])
    func noKeyIsProcessedTwiceAtOnceAndNoAddIsLost(withMetrics: Bool, keys: Int) async {
        let stress = StressRun(keys: keys, withMetrics: withMetrics)
        let q = stress.q
        await stress.run(seed: 1, settle: 60, worker: {
            while let key = await q.get() {
                await stress.process(key)
                q.done(key)
            }
        }, finish: { q.shutDown() })
        stress.check()
    }

    @Test func delayedRetriesUnderLoadAllArrive() async {
        let keys = 2_000
        let q = RateLimitedQueue<Int>(limiter: ExponentialFailureRateLimiter(baseDelay: .nanoseconds(1), maxDelay: .microseconds(50)))
        let done = Box<[Int: Int]>([:])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while let key = await q.get() {
                        let attempts = done.update { d in
                            d[key, default: 0] += 1
                            return d[key]!
                        }
                        if attempts < 3 { q.addRateLimited(key) } else { q.forget(key) }
                        q.done(key)
                    }
                }
            }
            for k in 0..<keys { q.add(k) }
            await waitUntil(60) { done.update { $0.count == keys && $0.values.allSatisfy { $0 == 3 } } }
            q.shutDown()
        }
        let d = done.update { $0 }
        #expect(d.count == keys)
        #expect(d.values.allSatisfy { $0 == 3 })
        #expect((0..<keys).allSatisfy { q.numRequeues($0) == 0 })
    }
}
