import HeapModule
import Metrics
import Synchronization

/// A `WorkQueue` whose items can also be added after a delay, kept in a timer heap until due.
///
/// One long-lived task per queue (started by the first delayed add) moves due items to the base
/// queue. When nothing is due it parks; if an item is waiting it first starts a one-shot sleeper
/// that wakes it at the earliest ready time. An add with an earlier ready time than the one the
/// loop is parked for wakes it at once (and cancels that sleeper), so no item waits past its time.
public final class DelayingQueue<Key: Hashable & Sendable>: DelayingQueueProtocol {
    /// The queue that due items are added to.
    public let base: WorkQueue<Key>
    /// The clock that delays are measured on (the base queue's).
    public var clock: any WorkQueueClock { base.clock }
    @usableFromInline let retries: Counter?
    @usableFromInline let timers: DelayTimers<Key>

    /// A delaying queue in front of `base`, sharing its clock and metrics configuration.
    public init(base: WorkQueue<Key>) {
        self.base = base
        self.retries = base.metricsConfiguration.map(WorkQueueMetrics.retries)
        self.timers = DelayTimers(base: base)
    }

    /// A delaying queue over a new `WorkQueue` (see `WorkQueue.init(name:metricsFactory:clock:)`).
    public convenience init(name: String? = nil, metricsFactory: (any MetricsFactory)? = nil,
                            clock: any WorkQueueClock = ContinuousWorkQueueClock()) {
        self.init(base: WorkQueue(name: name, metricsFactory: metricsFactory, clock: clock))
    }

    deinit {
        timers.stop()
    }

    /// Adds `item` when `delay` has passed. A non-positive delay adds it at once. If `item` is
    /// already waiting for a delay, only an earlier ready time replaces the one it has.
    /// Ignored once the queue is shutting down; otherwise counts one `workqueue_retries_total`.
    @inlinable
    public func add(_ item: Key, after delay: Duration) {
        if base.isShuttingDown { return }
        retries?.increment()
        if delay <= .zero {
            base.add(item)
            return
        }
        timers.schedule(item, at: (base.clock.now + delay).nanoseconds)
    }

    /// Items waiting for their delay to pass.
    public var waitingCount: Int { timers.waitingCount }

    /// When the first waiting item is due, if any.
    public var nextReadyTime: WorkQueueInstant? { timers.nextReadyTime }

    // MARK: WorkQueueProtocol, forwarded to `base`

    @inlinable public func add(_ item: Key) { base.add(item) }
    @inlinable public func get() async -> Key? { await base.get() }
    @inlinable public func done(_ item: Key) { base.done(item) }
    /// `done(previous)` then `get()` under one acquisition of the lock (see `WorkQueue.doneAndGet(_:)`).
    @inlinable public func doneAndGet(_ previous: Key) async -> Key? { await base.doneAndGet(previous) }
    public var len: Int { base.len }
    public var isShuttingDown: Bool { base.isShuttingDown }

    /// Drops the items waiting for a delay, ends the timer task and shuts the base queue down.
    public func shutDown() {
        timers.stop()
        base.shutDown()
    }

    /// Drops the items waiting for a delay, ends the timer task and shuts the base queue down with drain.
    public func shutDownWithDrain() async {
        timers.stop()
        await base.shutDownWithDrain()
    }
}

/// The timer heap of a `DelayingQueue` and the task that empties it into the base queue.
///
/// Invariants (of `State`, each holding whenever the lock is free):
/// 1. `waiting` maps each delayed item to its one live heap entry (its ready time and sequence number).
/// 2. Heap entries whose sequence number is not their item's live one are stale and are skipped.
/// 3. A delayed item's ready time only ever moves earlier: a later or equal one is ignored.
/// 4. The loop is `.parked` only after it found no entry due at its last look, and then with
///    `wakeAt` no later than the earliest ready time (nil when nothing waits); `schedule` wakes it
///    whenever it inserts an earlier ready time. So a waiting item is never left without a wake-up.
/// 5. A parked continuation is resumed exactly once: whoever resumes it (`schedule`, the sleeper,
///    `stop`) moves the phase away from `.parked` under the lock first.
/// 6. Once `stopped`, the heap and `waiting` are empty, nothing is scheduled and the loop ends.
@usableFromInline
final class DelayTimers<Key: Hashable & Sendable>: Sendable {
    @usableFromInline
    struct Entry: Comparable {
        @usableFromInline var readyAt: Int64
        @usableFromInline var sequence: UInt64
        @usableFromInline var item: Key

        @inlinable
        init(readyAt: Int64, sequence: UInt64, item: Key) {
            self.readyAt = readyAt
            self.sequence = sequence
            self.item = item
        }

        @inlinable
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.readyAt < rhs.readyAt || (lhs.readyAt == rhs.readyAt && lhs.sequence < rhs.sequence)
        }

        @inlinable
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.sequence == rhs.sequence }
    }

    @usableFromInline
    enum Phase {
        /// No loop task yet (no item was ever delayed).
        case idle
        /// The loop is running and will look at the heap again before it parks.
        case running
        /// The loop is suspended; `wakeAt` is when its sleeper will resume it (nil: no sleeper).
        case parked(UnsafeContinuation<Void, Never>, wakeAt: Int64?, sleeper: Task<Void, Never>?)
        /// Stopped for good.
        case stopped
    }

    @usableFromInline
    struct State {
        @usableFromInline var heap = Heap<Entry>()
        @usableFromInline var waiting: [Key: (readyAt: Int64, sequence: UInt64)] = [:]
        @usableFromInline var nextSequence: UInt64 = 0
        @usableFromInline var phase = Phase.idle
        /// Identifies the current park, so that a late sleeper cannot wake a later one.
        @usableFromInline var parkGeneration: UInt64 = 0

        @usableFromInline
        init() {}

        @inlinable
        mutating func dropStaleTop() {
            while let top = heap.min, waiting[top.item]?.sequence != top.sequence {
                _ = heap.removeMin()
            }
        }
    }

    /// What `schedule` must do once the lock is released.
    @usableFromInline
    enum Wake {
        case none
        case startLoop
        case resume(UnsafeContinuation<Void, Never>, sleeper: Task<Void, Never>?)
    }

    @usableFromInline let state = Mutex(State())
    @usableFromInline let base: WorkQueue<Key>

    init(base: WorkQueue<Key>) {
        self.base = base
    }

    /// Puts `item` in the heap for `readyAt` (nanoseconds on the base queue's clock), unless it
    /// already waits for that time or an earlier one, and makes sure the loop will see it in time.
    @inlinable
    func schedule(_ item: Key, at readyAt: Int64) {
        let wake: Wake = state.withLock { s in
            switch s.phase {
            case .stopped:
                return .none
            case .idle, .running, .parked:
                break
            }
            if let current = s.waiting[item], current.readyAt <= readyAt { return .none }
            s.nextSequence &+= 1
            s.waiting[item] = (readyAt, s.nextSequence)
            s.heap.insert(Entry(readyAt: readyAt, sequence: s.nextSequence, item: item))
            switch s.phase {
            case .idle:
                s.phase = .running
                return .startLoop
            case .parked(let continuation, let wakeAt, let sleeper):
                if let wakeAt, wakeAt <= readyAt { return .none }
                s.phase = .running
                return .resume(continuation, sleeper: sleeper)
            case .running, .stopped:
                return .none
            }
        }
        switch wake {
        case .none:
            break
        case .startLoop:
            startLoop()
        case .resume(let continuation, let sleeper):
            sleeper?.cancel()
            continuation.resume()
        }
    }

    // The loop is inlinable so that it runs specialized for the client's key type, like the
    // `schedule` call that starts it.
    @inlinable
    func startLoop() {
        Task { [self] in await self.run() }
    }

    /// The loop: move due items to the base queue; park when nothing is due; end when stopped.
    @inlinable
    func run() async {
        let clock = base.clock
        var due: [Key] = []
        while true {
            let now = clock.nowNanoseconds
            let stopped: Bool = state.withLock { s in
                if case .stopped = s.phase { return true }
                while let top = s.heap.min, top.readyAt <= now {
                    _ = s.heap.removeMin()
                    if s.waiting[top.item]?.sequence == top.sequence {
                        s.waiting[top.item] = nil
                        due.append(top.item)
                    }
                }
                return false
            }
            if stopped { return }
            if !due.isEmpty {
                if due.count == 1 { base.add(due[0]) } else { base.add(contentsOf: due) }
                due.removeAll(keepingCapacity: true)
                continue  // more may have become due meanwhile
            }
            await park(now: now, clock: clock)
        }
    }

    /// Suspends the loop unless an entry is due at `now`; arranges a sleeper for the earliest ready time.
    @inlinable
    func park(now: Int64, clock: any WorkQueueClock) async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let parked: Bool = state.withLock { s in
                if case .stopped = s.phase { return false }
                s.dropStaleTop()
                guard let next = s.heap.min?.readyAt else {
                    s.phase = .parked(continuation, wakeAt: nil, sleeper: nil)
                    return true
                }
                if next <= now { return false }  // became due (or was added) since the loop looked
                s.parkGeneration &+= 1
                let generation = s.parkGeneration
                let sleeper = Task { [self] in
                    do {
                        try await clock.sleep(until: WorkQueueInstant(offset: .nanoseconds(next)))
                    } catch {
                        return  // cancelled: someone else woke the loop
                    }
                    self.sleeperFired(generation: generation)
                }
                s.phase = .parked(continuation, wakeAt: next, sleeper: sleeper)
                return true
            }
            if !parked { continuation.resume() }
        }
    }

    @inlinable
    func sleeperFired(generation: UInt64) {
        let continuation: UnsafeContinuation<Void, Never>? = state.withLock { s in
            guard case .parked(let continuation, _, .some) = s.phase, s.parkGeneration == generation else { return nil }
            s.phase = .running
            return continuation
        }
        continuation?.resume()
    }

    /// Drops every waiting item and ends the loop; later `schedule` calls do nothing.
    func stop() {
        let (continuation, sleeper): (UnsafeContinuation<Void, Never>?, Task<Void, Never>?) = state.withLock { s in
            s.heap = Heap()
            s.waiting = [:]
            defer { s.phase = .stopped }
            if case .parked(let continuation, _, let sleeper) = s.phase { return (continuation, sleeper) }
            return (nil, nil)
        }
        sleeper?.cancel()
        continuation?.resume()
    }

    var waitingCount: Int { state.withLock { $0.waiting.count } }

    var nextReadyTime: WorkQueueInstant? {
        state.withLock { s in
            s.dropStaleTop()
            return s.heap.min.map { WorkQueueInstant(offset: .nanoseconds($0.readyAt)) }
        }
    }
}
