/// A token bucket: `qps` tokens a second, at most `burst` saved up.
public struct RateLimit: Sendable, Hashable {
    /// Greater than 0.
    public let qps: Double
    /// At least 1.
    public let burst: Int

    public init(qps: Double, burst: Int) {
        self.qps = qps
        self.burst = burst
    }
}

/// Exponential backoff: the first delay is `base`, each further failure
/// doubles it, and it never exceeds `max`. `base` is greater than zero and
/// at most `max`.
public struct Backoff: Sendable, Hashable {
    public let base: Duration
    public let max: Duration

    public init(base: Duration, max: Duration) {
        self.base = base
        self.max = max
    }
}

/// A plugin's limits on calls, writes and retries.
public struct RateLimits: Sendable, Hashable {
    /// Calls to the plugin, across all its workers. Default 100 QPS, burst 200.
    public let dispatch: RateLimit
    /// Writes made by the plugin's actions. Default 50 QPS, burst 100.
    public let writes: RateLimit
    /// Per-key delay after failed reconciles, so one failing object never
    /// holds back the others. Default 5ms to 1000s, client-go's numbers.
    public let backoff: Backoff

    public static let defaultDispatch = RateLimit(qps: 100, burst: 200)
    public static let defaultWrites = RateLimit(qps: 50, burst: 100)
    public static let defaultBackoff = Backoff(base: .milliseconds(5), max: .seconds(1000))

    public init(
        dispatch: RateLimit = RateLimits.defaultDispatch,
        writes: RateLimit = RateLimits.defaultWrites,
        backoff: Backoff = RateLimits.defaultBackoff
    ) {
        self.dispatch = dispatch
        self.writes = writes
        self.backoff = backoff
    }
}

/// Which watch events of the primary resource enqueue a reconcile.
/// Adds and deletes always do.
public struct EventFilters: Sendable, Hashable {
    /// Drop updates that change only `.status`: same generation, labels,
    /// annotations, finalizers and deletion timestamp. Default true, because
    /// a plugin's own status writes would otherwise wake it again.
    public let skipStatusOnlyChanges: Bool
    /// Drop every update that leaves `metadata.generation` unchanged. Default false.
    public let generationChangedOnly: Bool

    public init(skipStatusOnlyChanges: Bool = true, generationChangedOnly: Bool = false) {
        self.skipStatusOnlyChanges = skipStatusOnlyChanges
        self.generationChangedOnly = generationChangedOnly
    }
}
