/// Several limiters at once: `when` asks each of them (so each counts the requeue) and returns the
/// longest delay; `numRequeues` is the largest count; `forget` forgets in all.
public final class MaxOfRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public let limiters: [any RateLimiter<Key>]

    public init(_ limiters: [any RateLimiter<Key>]) {
        self.limiters = limiters
    }

    public convenience init(_ limiters: any RateLimiter<Key>...) {
        self.init(limiters)
    }

    public func when(_ item: Key) -> Duration {
        var longest = Duration.zero
        for limiter in limiters {
            let d = limiter.when(item)
            if d > longest { longest = d }
        }
        return longest
    }

    public func forget(_ item: Key) {
        for limiter in limiters { limiter.forget(item) }
    }

    public func numRequeues(_ item: Key) -> Int {
        limiters.reduce(0) { Swift.max($0, $1.numRequeues(item)) }
    }
}
