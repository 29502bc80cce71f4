import Synchronization

/// Where a rate limiter reads the time and waits. Injected so tests are exact.
public protocol LimiterClock: Sendable {
    var now: ContinuousClock.Instant { get }
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

/// The real clock.
public struct SystemLimiterClock: LimiterClock {
    public init() {}
    public var now: ContinuousClock.Instant { ContinuousClock.now }
    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await ContinuousClock().sleep(until: deadline)
    }
}

/// A token bucket: `burst` tokens, refilled at `qps` per second. Each request
/// takes one; when none is left it reserves the next one and waits for it, so
/// waiters are served in order and the long-run rate never exceeds `qps`.
public final class TokenBucket: Sendable {
    public let qps: Double
    public let burst: Int
    let clock: any LimiterClock

    struct State {
        var tokens: Double
        var last: ContinuousClock.Instant
    }

    private let state: Mutex<State>

    public init(qps: Double, burst: Int, clock: any LimiterClock = SystemLimiterClock()) {
        precondition(qps > 0 && burst >= 1, "a token bucket needs qps > 0 and burst >= 1")
        self.qps = qps
        self.burst = burst
        self.clock = clock
        self.state = Mutex(State(tokens: Double(burst), last: clock.now))
    }

    /// Takes a token and returns how long the caller must wait for it.
    public func reserve() -> Duration {
        let now = clock.now
        return state.withLock { state in
            let elapsed = now - state.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            state.tokens = min(Double(burst), state.tokens + seconds * qps)
            state.last = now
            state.tokens -= 1
            if state.tokens >= 0 { return .zero }
            return .nanoseconds(Int64((-state.tokens / qps * 1e9).rounded(.up)))
        }
    }

    /// Waits for a token.
    public func wait() async throws {
        let delay = reserve()
        if delay > .zero { try await wait(for: delay) }
    }

    /// Waits `delay` on the bucket's clock: for the token `reserve()` gave with that delay.
    public func wait(for delay: Duration) async throws {
        try await clock.sleep(until: clock.now + delay)
    }
}
