import Metrics

/// A `DelayingQueue` whose `addRateLimited` waits as long as its `RateLimiter` says.
public final class RateLimitedQueue<Key: Hashable & Sendable>: RateLimitingQueueProtocol {
    /// The delaying queue that rate-limited items go through.
    public let base: DelayingQueue<Key>
    /// Decides each rate-limited item's delay.
    public let limiter: any RateLimiter<Key>

    public init(base: DelayingQueue<Key>, limiter: any RateLimiter<Key>) {
        self.base = base
        self.limiter = limiter
    }

    /// A rate-limited queue over a new `DelayingQueue` (see `WorkQueue.init(name:metricsFactory:clock:)`).
    public convenience init(name: String? = nil, limiter: any RateLimiter<Key>,
                            metricsFactory: (any MetricsFactory)? = nil,
                            clock: any WorkQueueClock = ContinuousWorkQueueClock()) {
        self.init(base: DelayingQueue(name: name, metricsFactory: metricsFactory, clock: clock), limiter: limiter)
    }

    /// Adds `item` after the delay the limiter gives it now (which counts one more requeue of it).
    @inlinable
    public func addRateLimited(_ item: Key) {
        base.add(item, after: limiter.when(item))
    }

    /// Tells the limiter to stop tracking `item`: its next `addRateLimited` starts afresh.
    @inlinable public func forget(_ item: Key) { limiter.forget(item) }

    /// How many times `item` was rate-limited since it was last forgotten.
    @inlinable public func numRequeues(_ item: Key) -> Int { limiter.numRequeues(item) }

    // MARK: DelayingQueueProtocol, forwarded to `base`

    @inlinable public func add(_ item: Key, after delay: Duration) { base.add(item, after: delay) }
    @inlinable public func add(_ item: Key) { base.add(item) }
    @inlinable public func get() async -> Key? { await base.get() }
    @inlinable public func done(_ item: Key) { base.done(item) }
    /// `done(previous)` then `get()` under one acquisition of the lock (see `WorkQueue.doneAndGet(_:)`).
    @inlinable public func doneAndGet(_ previous: Key) async -> Key? { await base.doneAndGet(previous) }
    public var len: Int { base.len }
    public var isShuttingDown: Bool { base.isShuttingDown }
    public func shutDown() { base.shutDown() }
    public func shutDownWithDrain() async { await base.shutDownWithDrain() }

    /// Items waiting for their delay to pass.
    public var waitingCount: Int { base.waitingCount }
}
