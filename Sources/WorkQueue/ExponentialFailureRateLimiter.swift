import Synchronization

/// Per-item exponential backoff: the n-th `when` of an item (from 0) is `baseDelay * 2^n`,
/// capped at `maxDelay`. `forget` starts the item over.
public final class ExponentialFailureRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public let baseDelay: Duration
    public let maxDelay: Duration
    private let failures = Mutex<[Key: Int]>([:])
    /// The number of items in `failures`, changed only under its lock: when it is 0, `forget` and
    /// `numRequeues` (a controller calls them for every item it processes) need neither the lock nor a hash.
    private let tracked = Atomic<Int>(0)

    public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public func when(_ item: Key) -> Duration {
        let exponent = failures.withLock { f in
            let n = f[item, default: 0]
            f[item] = n + 1
            if n == 0 { tracked.store(f.count, ordering: .releasing) }
            return n
        }
        return Self.backoff(base: baseDelay, exponent: exponent, max: maxDelay)
    }

    /// `base * 2^exponent`, or `max` when that is larger (or would overflow).
    static func backoff(base: Duration, exponent: Int, max: Duration) -> Duration {
        if base <= .zero { return min(base, max) }
        // Double is exact enough to decide the cap; the result below it is computed exactly.
        guard exponent < 62, base.workQueueSeconds * Double(1 << exponent) < max.workQueueSeconds else { return max }
        return base * (1 << exponent)
    }

    public func forget(_ item: Key) {
        if tracked.load(ordering: .acquiring) == 0 { return }
        failures.withLock { f in
            if f.removeValue(forKey: item) != nil { tracked.store(f.count, ordering: .releasing) }
        }
    }

    public func numRequeues(_ item: Key) -> Int {
        if tracked.load(ordering: .acquiring) == 0 { return 0 }
        return failures.withLock { $0[item] ?? 0 }
    }
}
