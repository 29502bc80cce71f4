import Synchronization

/// Per item: the first `maxFastAttempts` calls of `when` return `fastDelay`, later ones `slowDelay`.
public final class FastSlowRateLimiter<Key: Hashable & Sendable>: RateLimiter {
    public let fastDelay: Duration
    public let slowDelay: Duration
    public let maxFastAttempts: Int
    private let attempts = Mutex<[Key: Int]>([:])

    public init(fastDelay: Duration, slowDelay: Duration, maxFastAttempts: Int) {
        self.fastDelay = fastDelay
        self.slowDelay = slowDelay
        self.maxFastAttempts = maxFastAttempts
    }

    public func when(_ item: Key) -> Duration {
        let n = attempts.withLock { a in
            let n = a[item, default: 0] + 1
            a[item] = n
            return n
        }
        return n <= maxFastAttempts ? fastDelay : slowDelay
    }

    public func forget(_ item: Key) {
        _ = attempts.withLock { $0.removeValue(forKey: item) }
    }

    public func numRequeues(_ item: Key) -> Int {
        attempts.withLock { $0[item] ?? 0 }
    }
}
