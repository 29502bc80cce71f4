import PluginConfig

/// The delays between starts of a supervised plugin.
///
/// The first delay is `base`; each one after doubles, never beyond `max`.
/// `reset()` starts over from `base`: the supervisor calls it after a run that
/// stayed healthy long enough to count as a success, so a plugin that crashes
/// once a day restarts quickly, while one that crashes at once backs off.
struct RestartBackoff: Sendable, Equatable {
    let base: Duration
    let max: Duration
    /// The delay the next call of `nextDelay()` returns; always within `base...max`.
    private(set) var upcoming: Duration

    init(base: Duration, max: Duration) {
        // The config reader guarantees 0 < base <= max; clamp rather than trust it here.
        let max = Swift.max(max, .zero)
        self.base = Swift.min(Swift.max(base, .zero), max)
        self.max = max
        self.upcoming = self.base
    }

    init(_ backoff: Backoff) {
        self.init(base: backoff.base, max: backoff.max)
    }

    /// The delay before the next start; the following one is twice as long, up to `max`.
    mutating func nextDelay() -> Duration {
        let delay = upcoming
        // Capped on every step, so doubling cannot overflow.
        upcoming = upcoming > max / 2 ? max : Swift.min(upcoming * 2, max)
        return delay
    }

    /// The next delay is `base` again.
    mutating func reset() {
        upcoming = base
    }
}
