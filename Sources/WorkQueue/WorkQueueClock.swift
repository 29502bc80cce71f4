#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time on a `WorkQueueClock`, as the time elapsed since that clock's origin.
public struct WorkQueueInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the clock's origin.
    public var offset: Duration

    @inlinable
    public init(offset: Duration) { self.offset = offset }

    /// The origin of a clock.
    public static var zero: WorkQueueInstant { WorkQueueInstant(offset: .zero) }

    @inlinable
    public static func < (lhs: WorkQueueInstant, rhs: WorkQueueInstant) -> Bool { lhs.offset < rhs.offset }

    @inlinable
    public static func + (lhs: WorkQueueInstant, rhs: Duration) -> WorkQueueInstant {
        WorkQueueInstant(offset: lhs.offset + rhs)
    }

    @inlinable
    public static func - (lhs: WorkQueueInstant, rhs: WorkQueueInstant) -> Duration { lhs.offset - rhs.offset }

    public var description: String { "t+\(offset)" }

    /// `offset` in whole nanoseconds (metric timings are kept in this form).
    @inlinable
    var nanoseconds: Int64 {
        let c = offset.components
        return c.seconds &* 1_000_000_000 &+ c.attoseconds / 1_000_000_000
    }
}

/// The time source of the queues and limiters: tests inject `ManualWorkQueueClock`,
/// production uses `ContinuousWorkQueueClock`.
public protocol WorkQueueClock: Sendable {
    /// The current instant.
    var now: WorkQueueInstant { get }

    /// `now.nanoseconds`, which a clock may read more cheaply (the queue reads it for metrics on every add,
    /// get and done).
    var nowNanoseconds: Int64 { get }

    /// Suspends until `now >= deadline`; throws `CancellationError` if the calling task is cancelled first.
    func sleep(until deadline: WorkQueueInstant) async throws
}

extension WorkQueueClock {
    public var nowNanoseconds: Int64 { now.nanoseconds }
}

/// A `WorkQueueClock` on the clock `ContinuousClock` reads (monotonic, keeps counting while the machine
/// sleeps), read directly in nanoseconds: `ContinuousClock`'s instants need 128-bit arithmetic to become
/// the nanoseconds that metrics record.
public struct ContinuousWorkQueueClock: WorkQueueClock {
    private let origin: Int64

    public init() { self.origin = MonotonicClock.nanoseconds() }

    public var nowNanoseconds: Int64 { MonotonicClock.nanoseconds() &- origin }

    public var now: WorkQueueInstant { WorkQueueInstant(offset: .nanoseconds(nowNanoseconds)) }

    public func sleep(until deadline: WorkQueueInstant) async throws {
        let remaining = deadline.nanoseconds &- nowNanoseconds
        if remaining > 0 {
            try await ContinuousClock().sleep(for: .nanoseconds(remaining), tolerance: nil)
        } else {
            try Task.checkCancellation()
        }
    }
}

/// The monotonic clock that `ContinuousClock` reads (on Linux `CLOCK_BOOTTIME`: it keeps counting while the
/// machine sleeps), in nanoseconds since an arbitrary origin.
public enum MonotonicClock {
    @inlinable
    public static func nanoseconds() -> Int64 {
        var time = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_BOOTTIME, &time)
        #else
        clock_gettime(CLOCK_MONOTONIC_RAW, &time)
        #endif
        return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
    }
}

extension Duration {
    /// This duration in seconds, as metrics report it.
    @inlinable
    var workQueueSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}
