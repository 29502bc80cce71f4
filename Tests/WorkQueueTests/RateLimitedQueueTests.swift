import Testing
import WorkQueue

@Suite("RateLimitedQueue")
struct RateLimitedQueueTests {
    @Test func addRateLimitedDelaysByTheLimiter() async {
        let clock = ManualWorkQueueClock()
        let q = RateLimitedQueue<String>(
            limiter: ExponentialFailureRateLimiter(baseDelay: ms(10), maxDelay: .seconds(1)), clock: clock)
        q.addRateLimited("a")
        #expect(q.len == 0)
        #expect(q.waitingCount == 1)
        #expect(q.numRequeues("a") == 1)
        clock.advance(by: ms(10))
        #expect(await withDeadline { await q.get() } == "a")
        q.addRateLimited("a")  // failed: retry later, while still processing
        q.done("a")
        #expect(q.base.nextReadyTime == at(ms(30)))
        #expect(q.numRequeues("a") == 2)
        clock.advance(by: ms(20))
        #expect(await withDeadline { await q.get() } == "a")
        q.forget("a")
        q.done("a")
        #expect(q.numRequeues("a") == 0)
        q.addRateLimited("a")
        #expect(q.base.nextReadyTime == at(ms(40)))
    }

    @Test func aRateLimitedQueueIsADelayingQueueIsAQueue() async {
        let q: any RateLimitingQueueProtocol<Int> = RateLimitedQueue<Int>(
            limiter: defaultControllerRateLimiter(clock: ManualWorkQueueClock()), clock: ManualWorkQueueClock())
        let delaying: any DelayingQueueProtocol<Int> = q
        let plain: any WorkQueueProtocol<Int> = delaying
        plain.add(1)
        delaying.add(2, after: .zero)
        #expect(plain.len == 2)
        #expect(await plain.get() == 1)
        plain.shutDown()
        #expect(q.isShuttingDown)
    }
}
