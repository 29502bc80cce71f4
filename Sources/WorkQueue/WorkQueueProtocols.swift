/// A deduplicating work queue: what `WorkQueue` provides.
public protocol WorkQueueProtocol<Key>: AnyObject, Sendable {
    associatedtype Key: Hashable & Sendable

    /// Marks `item` as needing processing.
    func add(_ item: Key)
    /// The next item to process, suspending while the queue is empty; nil once shut down and drained.
    func get() async -> Key?
    /// Marks the end of processing `item`, which was returned by `get()`.
    func done(_ item: Key)
    /// The number of items waiting to be handed out by `get()`.
    var len: Int { get }
    /// Stops accepting items and wakes waiting getters; what is queued can still be got.
    func shutDown()
    /// Like `shutDown()`, and waits until every item being processed is `done`.
    func shutDownWithDrain() async
    /// Whether `shutDown()` or `shutDownWithDrain()` was called.
    var isShuttingDown: Bool { get }
}

/// A work queue that can also add items after a delay: what `DelayingQueue` provides.
public protocol DelayingQueueProtocol<Key>: WorkQueueProtocol {
    /// Adds `item` once `delay` has passed; a non-positive delay adds it at once.
    func add(_ item: Key, after delay: Duration)
}

/// A delaying queue whose retries are spaced by a `RateLimiter`: what `RateLimitedQueue` provides.
public protocol RateLimitingQueueProtocol<Key>: DelayingQueueProtocol {
    /// Adds `item` after the delay the rate limiter says.
    func addRateLimited(_ item: Key)
    /// Tells the rate limiter to stop tracking `item` (it was processed successfully or given up on).
    func forget(_ item: Key)
    /// How many times `item` has been rate-limited since it was last forgotten.
    func numRequeues(_ item: Key) -> Int
}
