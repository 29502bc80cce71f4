import Synchronization

/// A clock that only moves when told to, so that tests of delays are exact.
///
/// `sleep(until:)` returns at once when the deadline has passed; otherwise it suspends
/// until `advance(by:)`/`advance(to:)` moves `now` to or past the deadline, or the task is cancelled.
public final class ManualWorkQueueClock: WorkQueueClock {
    private struct Sleeper {
        var deadline: WorkQueueInstant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: WorkQueueInstant
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(now: WorkQueueInstant = .zero) {
        self.state = Mutex(State(now: now))
    }

    public var now: WorkQueueInstant { state.withLock { $0.now } }

    /// Tasks currently suspended in `sleep(until:)`.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline any sleeper waits for.
    public var nextDeadline: WorkQueueInstant? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    public func sleep(until deadline: WorkQueueInstant) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case now, cancelled, wait }
                let outcome: Outcome = state.withLock { s in
                    if s.now >= deadline { return .now }
                    if Task.isCancelled { return .cancelled }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .wait
                }
                switch outcome {
                case .now: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `duration` (negative durations are ignored) and wakes the sleepers now due.
    public func advance(by duration: Duration) {
        let due: [Sleeper] = state.withLock { s in
            if duration > .zero { s.now = s.now + duration }
            return Self.takeDue(&s)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves the clock to `instant` if that is later than now, and wakes the sleepers now due.
    public func advance(to instant: WorkQueueInstant) {
        let due: [Sleeper] = state.withLock { s in
            if instant > s.now { s.now = instant }
            return Self.takeDue(&s)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    private static func takeDue(_ s: inout State) -> [Sleeper] {
        let now = s.now
        let dueIDs = s.sleepers.filter { $0.value.deadline <= now }.keys
        return dueIDs.compactMap { s.sleepers.removeValue(forKey: $0) }
    }
}
