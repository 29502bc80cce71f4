import Testing
import WorkQueue

/// The shortcuts a plugin controller's workers take on every key.
@Suite("Hot path")
struct HotPathTests {
    @Test func doneAndGetThroughTheRateLimitedQueue() async {
        let q = RateLimitedQueue<String>(limiter: ExponentialFailureRateLimiter(baseDelay: ms(10), maxDelay: .seconds(1)))
        q.add("a")
        q.add("b")
        #expect(await withDeadline { await q.get() } == "a")
        q.add("a")  // dirty while processing: queued again behind b
        #expect(await withDeadline { await q.doneAndGet("a") } == "b")
        #expect(await withDeadline { await q.doneAndGet("b") } == "a")
        q.shutDown()
        #expect(await withDeadline { await q.doneAndGet("a") } == .some(nil))  // done, then shut down and drained
    }

    @Test func isShuttingDownWithoutTheLock() async {
        let q = WorkQueue<Int>()
        #expect(!q.isShuttingDown)
        q.add(1)  // pending adds do not look like a shutdown
        #expect(!q.isShuttingDown)
        let getter = Task { await q.get() }
        #expect(await getter.value == 1)
        let sleeper = Task { await q.get() }  // a sleeping getter tags the word: still not shut down
        try? await Task.sleep(for: .milliseconds(20))
        #expect(!q.isShuttingDown)
        q.shutDown()
        #expect(q.isShuttingDown)
        #expect(await sleeper.value == nil)
        q.add(2)
        #expect(q.isShuttingDown)
        #expect(q.len == 0)
    }

    @Test func failureLimiterCountsWithAndWithoutTrackedItems() {
        let r = ExponentialFailureRateLimiter<String>(baseDelay: ms(1), maxDelay: .seconds(1))
        #expect(r.numRequeues("a") == 0)
        r.forget("a")  // nothing tracked
        #expect(r.when("a") == ms(1))
        #expect(r.when("b") == ms(1))
        r.forget("c")  // not tracked, others are
        #expect(r.numRequeues("a") == 1)
        r.forget("a")
        #expect(r.numRequeues("a") == 0)
        #expect(r.numRequeues("b") == 1)
        r.forget("b")
        #expect(r.numRequeues("b") == 0)
        #expect(r.when("b") == ms(1))
        #expect(r.when("b") == ms(2))
        #expect(r.numRequeues("b") == 2)
    }
}
