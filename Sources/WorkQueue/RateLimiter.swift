/// Decides how long an item waits before it is retried.
public protocol RateLimiter<Key>: Sendable {
    associatedtype Key: Hashable & Sendable

    /// How long `item` should wait now; counts one more requeue of it where the limiter tracks items.
    func when(_ item: Key) -> Duration
    /// Stops tracking `item`: its next `when` starts afresh.
    func forget(_ item: Key)
    /// How many times `item` has been requeued since it was last forgotten.
    func numRequeues(_ item: Key) -> Int
}

/// client-go's default for controllers: per-item exponential backoff from 5 ms to 1000 s, and
/// an overall token bucket of 10 qps with a burst of 100; an item waits for the longer of the two.
public func defaultControllerRateLimiter<Key: Hashable & Sendable>(
    clock: any WorkQueueClock = ContinuousWorkQueueClock()
) -> MaxOfRateLimiter<Key> {
    MaxOfRateLimiter(
        ExponentialFailureRateLimiter<Key>(baseDelay: .milliseconds(5), maxDelay: .seconds(1000)),
        TokenBucketRateLimiter<Key>(qps: 10, burst: 100, clock: clock)
    )
}
