import Synchronization

/// One bucket for all items: `burst` tokens, refilled at `qps` per second. Each `when` reserves a
/// token; when none is left, the wait grows by `1/qps` per reservation beyond the bucket
/// (the reservation semantics of golang.org/x/time/rate's `Reserve().Delay()`).
/// It tracks no items: `forget` does nothing and `numRequeues` is 0.
public final class TokenBucketRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public let qps: Double
    public let burst: Int
    private let clock: any WorkQueueClock

    private struct Bucket {
        var tokens: Double
        var last: WorkQueueInstant
    }

    private let bucket: Mutex<Bucket>

    /// - Precondition: `qps > 0`, `burst >= 0`.
    public init(qps: Double = 10, burst: Int = 100, clock: any WorkQueueClock = ContinuousWorkQueueClock()) {
        precondition(qps > 0 && qps.isFinite, "qps must be positive and finite")
        precondition(burst >= 0, "burst must not be negative")
        self.qps = qps
        self.burst = burst
        self.clock = clock
        self.bucket = Mutex(Bucket(tokens: Double(burst), last: clock.now))
    }

    public func when(_ item: Key) -> Duration {
        let now = clock.now
        let deficit: Double = bucket.withLock { b in
            if now > b.last {
                b.tokens = min(Double(burst), b.tokens + (now - b.last).workQueueSeconds * qps)
                b.last = now
            }
            b.tokens -= 1
            return b.tokens < 0 ? -b.tokens : 0
        }
        if deficit == 0 { return .zero }
        return .nanoseconds(Int64((deficit / qps * 1e9).rounded()))
    }

    public func forget(_ item: Key) {}

    public func numRequeues(_ item: Key) -> Int { 0 }
}
