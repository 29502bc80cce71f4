import HeapModule
import Metrics
import Synchronization

/// A `WorkQueue` whose items can also be added after a delay, kept in a timer heap until due.
///
/// Invariants (of `Timers`, each holding whenever the lock is free):
/// 1. `waiting` maps each delayed item to its one live heap entry (its ready time and sequence number).
/// 2. Heap entries whose sequence number is not the item's live one are stale and are skipped when popped.
/// 3. A delayed item's ready time only ever moves earlier: a later or equal one is ignored.
/// 4. While `waiting` is non-empty and not stopped, a timer is armed for an instant no later than the earliest ready time.
/// 5. Once `stopped`, the heap and `waiting` are empty and no timer is armed.
public final class DelayingQueue<Key: Hashable & Sendable>: DelayingQueueProtocol {
    struct Entry: Comparable {
        var readyAt: WorkQueueInstant
        var sequence: UInt64
        var item: Key

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.readyAt, lhs.sequence) < (rhs.readyAt, rhs.sequence)
        }

        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.sequence == rhs.sequence }
    }

    struct Armed {
        var deadline: WorkQueueInstant
        var generation: UInt64
        var task: Task<Void, Never>
    }

    struct Timers {
        var heap = Heap<Entry>()
        var waiting: [Key: (readyAt: WorkQueueInstant, sequence: UInt64)] = [:]
        var nextSequence: UInt64 = 0
        var armed: Armed?
        var stopped = false

        mutating func dropStaleTop() {
            while let top = heap.min, waiting[top.item]?.sequence != top.sequence {
                _ = heap.removeMin()
            }
        }
    }

    /// The queue that due items are added to.
    public let base: WorkQueue<Key>
    /// The clock that delays are measured on (the base queue's).
    public var clock: any WorkQueueClock { base.clock }
    private let retries: Counter?
    private let timers = Mutex(Timers())

    /// A delaying queue in front of `base`, sharing its clock and metrics configuration.
    public init(base: WorkQueue<Key>) {
        self.base = base
        self.retries = base.metricsConfiguration.map(WorkQueueMetrics.retries)
    }

    /// A delaying queue over a new `WorkQueue` (see `WorkQueue.init(name:metricsFactory:clock:)`).
    public convenience init(name: String? = nil, metricsFactory: (any MetricsFactory)? = nil,
                            clock: any WorkQueueClock = ContinuousWorkQueueClock()) {
        self.init(base: WorkQueue(name: name, metricsFactory: metricsFactory, clock: clock))
    }

    deinit {
        timers.withLock { $0.armed?.task.cancel() }
    }

    /// Adds `item` when `delay` has passed. A non-positive delay adds it at once. If `item` is
    /// already waiting for a delay, only an earlier ready time replaces the one it has.
    /// Ignored once the queue is shutting down; otherwise counts one `workqueue_retries_total`.
    public func add(_ item: Key, after delay: Duration) {
        if base.isShuttingDown { return }
        retries?.increment()
        if delay <= .zero {
            base.add(item)
            return
        }
        let readyAt = clock.now + delay
        let replaced: Task<Void, Never>? = timers.withLock { t in
            if t.stopped { return nil }
            if let current = t.waiting[item], current.readyAt <= readyAt { return nil }
            t.nextSequence &+= 1
            t.waiting[item] = (readyAt, t.nextSequence)
            t.heap.insert(Entry(readyAt: readyAt, sequence: t.nextSequence, item: item))
            if let armed = t.armed, armed.deadline <= readyAt { return nil }
            let old = t.armed?.task
            arm(&t, at: readyAt)
            return old
        }
        replaced?.cancel()
    }

    /// Items waiting for their delay to pass.
    public var waitingCount: Int { timers.withLock { $0.waiting.count } }

    /// When the first waiting item is due, if any.
    public var nextReadyTime: WorkQueueInstant? {
        timers.withLock { t in
            t.dropStaleTop()
            return t.heap.min?.readyAt
        }
    }

    private func arm(_ t: inout Timers, at deadline: WorkQueueInstant) {
        t.nextSequence &+= 1
        let generation = t.nextSequence
        let clock = self.clock
        let task = Task { [weak self] in
            do { try await clock.sleep(until: deadline) } catch { return }
            self?.fire(generation: generation)
        }
        t.armed = Armed(deadline: deadline, generation: generation, task: task)
    }

    /// Moves every due item to the base queue, in ready-time order, and arms the next timer.
    private func fire(generation: UInt64) {
        let now = clock.now
        let due: [Key] = timers.withLock { t in
            if t.armed?.generation == generation { t.armed = nil }
            if t.stopped { return [] }
            var due: [Key] = []
            while let top = t.heap.min, top.readyAt <= now {
                _ = t.heap.removeMin()
                if t.waiting[top.item]?.sequence == top.sequence {
                    t.waiting[top.item] = nil
                    due.append(top.item)
                }
            }
            t.dropStaleTop()
            if t.armed == nil, let next = t.heap.min {
                arm(&t, at: next.readyAt)
            }
            return due
        }
        if due.count == 1 {
            base.add(due[0])
        } else if !due.isEmpty {
            base.add(contentsOf: due)
        }
    }

    private func stopTimers() {
        let task: Task<Void, Never>? = timers.withLock { t in
            t.stopped = true
            t.heap = Heap()
            t.waiting = [:]
            defer { t.armed = nil }
            return t.armed?.task
        }
        task?.cancel()
    }

    // MARK: WorkQueueProtocol, forwarded to `base`

    @inlinable public func add(_ item: Key) { base.add(item) }
    @inlinable public func get() async -> Key? { await base.get() }
    @inlinable public func done(_ item: Key) { base.done(item) }
    public var len: Int { base.len }
    public var isShuttingDown: Bool { base.isShuttingDown }

    /// Drops the items waiting for a delay, stops the timer and shuts the base queue down.
    public func shutDown() {
        stopTimers()
        base.shutDown()
    }

    /// Drops the items waiting for a delay, stops the timer and shuts the base queue down with drain.
    public func shutDownWithDrain() async {
        stopTimers()
        await base.shutDownWithDrain()
    }
}
