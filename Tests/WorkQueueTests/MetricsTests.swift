import Testing
import WorkQueue

@Suite("Metrics")
struct MetricsTests {
    typealias N = WorkQueueMetricNames

    @Test func anUnnamedQueueEmitsNothing() async {
        let factory = TestMetricsFactory()
        let clock = ManualWorkQueueClock()
        let q = RateLimitedQueue<String>(
            limiter: ExponentialFailureRateLimiter(), metricsFactory: factory, clock: clock)
        q.add("a")
        _ = await q.get()
        q.addRateLimited("a")
        q.done("a")
        q.base.base.updateUnfinishedWork()
        #expect(factory.madeCount == 0)
    }

    @Test func addsDepthAndDurationsFollowTheItems() async {
        let factory = TestMetricsFactory()
        let clock = ManualWorkQueueClock()
        let q = WorkQueue<String>(name: "q", metricsFactory: factory, clock: clock)
        q.add("a")
        q.add("b")
        q.add("a")  // deduplicated: not an add
        #expect(factory.counter(N.adds, queue: "q") == 2)
        #expect(factory.meter(N.depth, queue: "q") == 2)

        clock.advance(by: .seconds(1))
        #expect(await q.get() == "a")
        #expect(factory.meter(N.depth, queue: "q") == 1)
        #expect(factory.timed(N.queueDuration, queue: "q") == [1.0])

        clock.advance(by: .milliseconds(500))
        q.add("a")  // dirty while processing: an add, counted in depth
        #expect(factory.counter(N.adds, queue: "q") == 3)
        #expect(factory.meter(N.depth, queue: "q") == 2)

        clock.advance(by: .seconds(2))
        q.done("a")  // worked 2.5 s; requeued
        #expect(factory.timed(N.workDuration, queue: "q") == [2.5])
        #expect(factory.meter(N.depth, queue: "q") == 2)
        #expect(await q.get() == "b")
        #expect(await q.get() == "a")
        #expect(factory.meter(N.depth, queue: "q") == 0)
        // b waited 3.5 s, the second a 2 s (from its add while processing).
        #expect(factory.timed(N.queueDuration, queue: "q") == [1.0, 3.5, 2.0])
    }

    @Test func anItemHandedToAWaitingGetterIsCounted() async {
        let factory = TestMetricsFactory()
        let clock = ManualWorkQueueClock()
        let q = WorkQueue<String>(name: "h", metricsFactory: factory, clock: clock)
        let getter = Task { await q.get() }
        await waitUntil { q.waitingGetterCount == 1 }
        q.add("a")
        #expect(await withDeadline { await getter.value } == "a")
        #expect(factory.counter(N.adds, queue: "h") == 1)
        #expect(factory.meter(N.depth, queue: "h") == 0)
        #expect(factory.timed(N.queueDuration, queue: "h") == [0.0])
        clock.advance(by: .seconds(3))
        q.done("a")
        #expect(factory.timed(N.workDuration, queue: "h") == [3.0])
    }

    @Test func unfinishedWorkAndLongestRunningProcessor() async {
        let factory = TestMetricsFactory()
        let clock = ManualWorkQueueClock()
        let q = WorkQueue<String>(name: "u", metricsFactory: factory, clock: clock)
        q.add("a")
        q.add("b")
        _ = await q.get()  // a starts at 0 s
        clock.advance(by: .seconds(1))
        _ = await q.get()  // b starts at 1 s
        clock.advance(by: .seconds(2))
        q.updateUnfinishedWork()
        #expect(factory.recorded(N.unfinishedWork, queue: "u")?.last == 5.0)
        #expect(factory.recorded(N.longestRunningProcessor, queue: "u")?.last == 3.0)
        q.done("a")
        q.updateUnfinishedWork()
        #expect(factory.recorded(N.unfinishedWork, queue: "u")?.last == 2.0)
        #expect(factory.recorded(N.longestRunningProcessor, queue: "u")?.last == 2.0)
        q.done("b")
        q.updateUnfinishedWork()
        #expect(factory.recorded(N.unfinishedWork, queue: "u")?.last == 0.0)
    }

    @Test func periodicUpdatesRunOnTheQueueClock() async {
        let factory = TestMetricsFactory()
        let clock = ManualWorkQueueClock()
        let q = WorkQueue<String>(name: "p", metricsFactory: factory, clock: clock)
        q.add("a")
        _ = await q.get()
        let updater = Task { await q.runUnfinishedWorkUpdates(every: .seconds(1)) }
        await waitUntil { clock.sleeperCount == 1 }
        #expect(factory.recorded(N.unfinishedWork, queue: "p") == [0.0])
        clock.advance(by: .seconds(1))
        await waitUntil { factory.recorded(N.unfinishedWork, queue: "p")?.count == 2 }
        #expect(factory.recorded(N.unfinishedWork, queue: "p") == [0.0, 1.0])
        updater.cancel()
        _ = await withDeadline { await updater.value }
    }

    @Test func retriesCountEveryDelayedAndRateLimitedAdd() async {
        let factory = TestMetricsFactory()
        let clock = ManualWorkQueueClock()
        let q = RateLimitedQueue<String>(
            name: "r", limiter: ExponentialFailureRateLimiter(), metricsFactory: factory, clock: clock)
        q.addRateLimited("a")
        q.addRateLimited("a")
        q.add("b", after: .zero)
        q.add("c")  // not a retry
        #expect(factory.counter(N.retries, queue: "r") == 3)
        #expect(factory.counter(N.adds, queue: "r") == 2)  // b and c; a is still delayed
        q.shutDown()
        q.addRateLimited("a")
        #expect(factory.counter(N.retries, queue: "r") == 3, "ignored after shutdown")
    }

    @Test func queuesAreTellApartByTheNameDimension() {
        let factory = TestMetricsFactory()
        let one = WorkQueue<Int>(name: "one", metricsFactory: factory)
        let two = WorkQueue<Int>(name: "two", metricsFactory: factory)
        one.add(1)
        two.add(1)
        two.add(2)
        #expect(factory.counter(N.adds, queue: "one") == 1)
        #expect(factory.counter(N.adds, queue: "two") == 2)
    }
}
