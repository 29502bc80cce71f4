import Testing
import WorkQueue

@Suite("RateLimiters")
struct RateLimiterTests {
    @Test func exponentialBackoffDoublesPerItemUpToTheCap() {
        let r = ExponentialFailureRateLimiter<String>(baseDelay: ms(1), maxDelay: ms(10))
        #expect((0..<6).map { _ in r.when("a") } == [ms(1), ms(2), ms(4), ms(8), ms(10), ms(10)])
        #expect(r.when("b") == ms(1), "items back off independently")
        #expect(r.numRequeues("a") == 6)
        #expect(r.numRequeues("b") == 1)
        r.forget("a")
        #expect(r.numRequeues("a") == 0)
        #expect(r.when("a") == ms(1))
        #expect(r.numRequeues("b") == 1)
    }

    @Test func exponentialBackoffDefaultsAndOverflow() {
        let r = ExponentialFailureRateLimiter<Int>()
        #expect(r.baseDelay == ms(5))
        #expect(r.maxDelay == .seconds(1000))
        #expect((0..<4).map { _ in r.when(1) } == [ms(5), ms(10), ms(20), ms(40)])
        for _ in 0..<200 { _ = r.when(2) }
        #expect(r.when(2) == .seconds(1000))
        // 5 ms * 2^17 = 655.36 s is below the cap; 2^18 is above it.
        let s = ExponentialFailureRateLimiter<Int>()
        let delays = (0..<19).map { _ in s.when(0) }
        #expect(delays[17] == ms(5) * 131_072)
        #expect(delays[18] == .seconds(1000))
    }

    @Test func tokenBucketAllowsTheBurstThenSpacesBy1OverQPS() {
        let clock = ManualWorkQueueClock()
        let r = TokenBucketRateLimiter<String>(qps: 10, burst: 3, clock: clock)
        #expect((0..<6).map { r.when("k\($0)") } == [.zero, .zero, .zero, ms(100), ms(200), ms(300)])
        // 250 ms refill 2.5 tokens: -3 + 2.5 = -0.5, minus one reserved = -1.5 tokens.
        clock.advance(by: ms(250))
        #expect(r.when("x") == ms(150))
        #expect(r.numRequeues("x") == 0)
        // Refill stops at the burst.
        clock.advance(by: .seconds(10))
        #expect((0..<4).map { r.when("k\($0)") } == [.zero, .zero, .zero, ms(100)])
    }

    @Test func defaultTokenBucketIsTenQPSWithABurstOf100() {
        let clock = ManualWorkQueueClock()
        let r = TokenBucketRateLimiter<Int>(clock: clock)
        let delays = (0..<102).map { r.when($0) }
        #expect(delays[0..<100].allSatisfy { $0 == .zero })
        #expect(delays[100] == ms(100))
        #expect(delays[101] == ms(200))
    }

    @Test func fastSlowSwitchesAfterMaxFastAttempts() {
        let r = FastSlowRateLimiter<String>(fastDelay: ms(5), slowDelay: .seconds(10), maxFastAttempts: 3)
        #expect((0..<5).map { _ in r.when("a") } == [ms(5), ms(5), ms(5), .seconds(10), .seconds(10)])
        #expect(r.when("b") == ms(5))
        #expect(r.numRequeues("a") == 5)
        r.forget("a")
        #expect(r.numRequeues("a") == 0)
        #expect(r.when("a") == ms(5))
    }

    @Test func maxOfTakesTheLongestDelayAndForgetsInAll() {
        let exp = ExponentialFailureRateLimiter<String>(baseDelay: ms(1), maxDelay: .seconds(1))
        let fastSlow = FastSlowRateLimiter<String>(fastDelay: ms(3), slowDelay: ms(1000), maxFastAttempts: 2)
        let r = MaxOfRateLimiter<String>(exp, fastSlow)
        #expect((0..<4).map { _ in r.when("a") } == [ms(3), ms(3), ms(1000), ms(1000)])
        #expect(r.numRequeues("a") == 4)
        r.forget("a")
        #expect(exp.numRequeues("a") == 0)
        #expect(fastSlow.numRequeues("a") == 0)
        #expect(r.when("a") == ms(3))
    }

    @Test func defaultControllerRateLimiterIsMaxOfExponentialAndBucket() {
        let clock = ManualWorkQueueClock()
        let r: MaxOfRateLimiter<Int> = defaultControllerRateLimiter(clock: clock)
        // Same item: exponential from 5 ms (the bucket still has tokens).
        #expect((0..<3).map { _ in r.when(-1) } == [ms(5), ms(10), ms(20)])
        // 97 more distinct items use up the burst of 100 ...
        for i in 0..<97 { #expect(r.when(i) == ms(5)) }
        // ... so the bucket's 100 ms now exceeds a new item's 5 ms.
        #expect(r.when(1000) == ms(100))
        #expect(r.numRequeues(-1) == 3)
        r.forget(-1)
        #expect(r.numRequeues(-1) == 0)
    }
}
