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

    /// Suspends until `now >= deadline`; throws `CancellationError` if the calling task is cancelled first.
    func sleep(until deadline: WorkQueueInstant) async throws
}

/// A `WorkQueueClock` on `ContinuousClock` (monotonic, keeps counting while the machine sleeps).
public struct ContinuousWorkQueueClock: WorkQueueClock {
    private let origin: ContinuousClock.Instant

    public init() { self.origin = ContinuousClock.now }

    public var now: WorkQueueInstant { WorkQueueInstant(offset: origin.duration(to: ContinuousClock.now)) }

    public func sleep(until deadline: WorkQueueInstant) async throws {
        try await ContinuousClock().sleep(until: origin.advanced(by: deadline.offset), tolerance: nil)
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
