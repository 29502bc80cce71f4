import DequeModule
import Metrics
import Synchronization

/// A deduplicating FIFO of keys for controllers, with client-go's workqueue semantics.
///
/// Invariants (of `State`, each holding whenever the lock is free):
/// 1. An item is in at most one of "waiting" (`.queued`) and "processing" (`.processing` or
///    `.processingDirty`): `items` has one entry per item, with one state.
/// 2. `queue` holds exactly the items whose state is `.queued`, each once, in the order they became waiting.
/// 3. `processingCount` is the number of items whose state is `.processing` or `.processingDirty`.
/// 4. Whenever `queue` and `sleepers` are both non-empty, `pendingWakes > 0`: some getter has been
///    woken and has not yet looked at the queue again. Every path that makes `queue` non-empty
///    wakes a sleeper when none is pending, and a woken getter that leaves items behind wakes the
///    next one. A getter becomes a sleeper only after finding `queue` empty, in the same critical
///    section. Hence no item waits while every getter sleeps (no lost wake-up).
/// 5. `shuttingDown` never goes back to false; while it is true `add` changes nothing and no getter sleeps.
/// 6. `drainWaiters` is non-empty only while shutting down with items still processing.
/// 7. With metrics on, an entry's `addedAt` is the time it last became dirty (`.queued`,
///    `.processingDirty`) and `startedAt` the time it was last handed out (`.processing*`).
///
/// Hence: adding a waiting item is a no-op; adding an item being processed marks it dirty and it is
/// queued again (once) when `done` is called; an item is never handed to two workers at once.
///
/// Waking one sleeper at a time (rather than handing each new item to the next sleeper) keeps a
/// burst of adds from resuming every idle worker: the woken one takes what has queued meanwhile
/// and wakes another only if items are left when it gets there.
///
/// Sleeping getters and drain waiters use `UnsafeContinuation`. Each is resumed exactly once:
/// whoever resumes a stored one (an adder, `done`, a woken getter, shutdown, or the cancellation
/// handler) first removes it from `State` under the lock, and one that was never stored is resumed
/// by the code that created it.
public final class WorkQueue<Key: Hashable & Sendable>: WorkQueueProtocol {
    @usableFromInline
    enum ItemState: UInt8 {
        case queued
        case processing
        case processingDirty
    }

    /// What the queue knows of one item it holds.
    @usableFromInline
    struct Entry {
        @usableFromInline var state: ItemState
        /// When the item last became dirty, in nanoseconds on the queue's clock (metrics only).
        @usableFromInline var addedAt: Int64
        /// When the item was last handed out, in nanoseconds on the queue's clock (metrics only).
        @usableFromInline var startedAt: Int64

        @inlinable
        init(state: ItemState, addedAt: Int64, startedAt: Int64) {
            self.state = state
            self.addedAt = addedAt
            self.startedAt = startedAt
        }
    }

    /// The outcome of one look at the queue by a getter that had to wait.
    @usableFromInline
    enum Look {
        /// An item, and how long it waited (nanoseconds; 0 with metrics off).
        case item(Key, waited: Int64)
        /// Return nil: shut down with nothing queued, or cancelled.
        case none
        /// Woken: look again.
        case again
    }

    @usableFromInline
    struct Sleeper {
        @usableFromInline let id: UInt64
        @usableFromInline let continuation: UnsafeContinuation<Look, Never>

        @inlinable
        init(id: UInt64, continuation: UnsafeContinuation<Look, Never>) {
            self.id = id
            self.continuation = continuation
        }
    }

    @usableFromInline
    struct State {
        @usableFromInline var queue = Deque<Key>()
        @usableFromInline var items: [Key: Entry] = [:]
        @usableFromInline var processingCount = 0
        @usableFromInline var sleepers = Deque<Sleeper>()
        @usableFromInline var pendingWakes = 0
        @usableFromInline var drainWaiters: [UInt64: UnsafeContinuation<Void, Never>] = [:]
        @usableFromInline var shuttingDown = false
        @usableFromInline var nextID: UInt64 = 0

        @usableFromInline
        init() {}

        @inlinable
        mutating func newID() -> UInt64 {
            nextID &+= 1
            return nextID
        }

        /// The sleeper to resume (outside the lock) so that invariant 4 holds again, if one is needed.
        @inlinable
        mutating func wakeIfNeeded() -> UnsafeContinuation<Look, Never>? {
            guard pendingWakes == 0, !queue.isEmpty, let sleeper = sleepers.popFirst() else { return nil }
            pendingWakes += 1
            return sleeper.continuation
        }

        /// Sets `shuttingDown` and removes every sleeper (to be resumed to look again, outside the lock).
        mutating func beginShutdown() -> Deque<Sleeper> {
            shuttingDown = true
            pendingWakes += sleepers.count
            defer { sleepers = [] }
            return sleepers
        }
    }

    /// The clock for metric timings.
    public let clock: any WorkQueueClock
    /// Where metrics go; nil: this queue emits nothing.
    public let metricsConfiguration: WorkQueueMetricsConfiguration?
    @usableFromInline let metrics: WorkQueueMetrics?
    @usableFromInline let state = Mutex(State())

    /// A queue; with a `metrics` configuration it emits client-go's workqueue metrics under that name.
    public init(metrics: WorkQueueMetricsConfiguration? = nil, clock: any WorkQueueClock = ContinuousWorkQueueClock()) {
        self.clock = clock
        self.metricsConfiguration = metrics
        self.metrics = metrics.map(WorkQueueMetrics.init)
    }

    /// A queue named `name` (metrics on, through `metricsFactory` or the global factory), or unnamed (metrics off).
    public convenience init(name: String?, metricsFactory: (any MetricsFactory)? = nil,
                            clock: any WorkQueueClock = ContinuousWorkQueueClock()) {
        self.init(metrics: name.map { WorkQueueMetricsConfiguration(name: $0, factory: metricsFactory) }, clock: clock)
    }

    /// The clock's reading in nanoseconds when metrics are on; 0 (and no clock read) otherwise.
    @inlinable
    var metricsNow: Int64 {
        metrics == nil ? 0 : clock.now.nanoseconds
    }

    // MARK: Adding

    /// Marks `item` as needing processing: queues it unless it is already waiting; if it is being
    /// processed it is queued again when `done` is called for it. Ignored once shutting down.
    @inlinable
    public func add(_ item: Key) {
        let now = metricsNow
        let (marked, wake) = state.withLock { s in
            let marked = Self.add(item, to: &s, now: now)
            return (marked, marked ? s.wakeIfNeeded() : nil)
        }
        if marked, let metrics {
            metrics.adds.increment()
            metrics.depth.increment()
        }
        wake?.resume(returning: .again)
    }

    /// Adds every item of `items` under one acquisition of the lock.
    @inlinable
    public func add(contentsOf items: some Sequence<Key>) {
        let now = metricsNow
        let (marked, wake) = state.withLock { s in
            var marked = 0
            for item in items where Self.add(item, to: &s, now: now) { marked += 1 }
            return (marked, s.wakeIfNeeded())
        }
        if marked > 0, let metrics {
            metrics.adds.increment(by: marked)
            metrics.depth.increment(by: Double(marked))
        }
        wake?.resume(returning: .again)
    }

    /// Marks `item` dirty in `s`; false when that changed nothing.
    @inlinable
    static func add(_ item: Key, to s: inout State, now: Int64) -> Bool {
        if s.shuttingDown { return false }
        if let i = s.items.index(forKey: item) {
            guard s.items.values[i].state == .processing else { return false }  // already dirty
            s.items.values[i].state = .processingDirty
            s.items.values[i].addedAt = now
            return true
        }
        s.items[item] = Entry(state: .queued, addedAt: now, startedAt: 0)
        s.queue.append(item)
        return true
    }

    // MARK: Getting

    @usableFromInline
    enum GetOutcome {
        /// An item, and how long it waited (nanoseconds; 0 with metrics off).
        case item(Key, waited: Int64)
        case shutDown
        case empty
    }

    @inlinable
    static func pop(_ s: inout State, now: Int64) -> GetOutcome {
        guard let item = s.queue.popFirst() else {
            return s.shuttingDown ? .shutDown : .empty
        }
        s.processingCount += 1
        guard let i = s.items.index(forKey: item) else { preconditionFailure("a queued item has no entry") }
        s.items.values[i].state = .processing
        s.items.values[i].startedAt = now
        return .item(item, waited: now - s.items.values[i].addedAt)
    }

    /// Metrics for an item handed out after waiting `waited` nanoseconds.
    @inlinable
    func gotMetrics(waited: Int64) {
        guard let metrics else { return }
        metrics.depth.decrement()
        metrics.queueDuration.recordNanoseconds(waited)
    }

    /// The next item, which the caller must pass to `done` when finished with it.
    ///
    /// Suspends while the queue is empty. Returns nil once the queue is shut down and nothing is
    /// waiting, or if the calling task is cancelled while suspended.
    @inlinable
    public func get() async -> Key? {
        let now = metricsNow
        switch state.withLock({ Self.pop(&$0, now: now) }) {
        case .item(let item, let waited):
            gotMetrics(waited: waited)
            return item
        case .shutDown:
            return nil
        case .empty:
            return await waitForItem()
        }
    }

    /// Looks at the queue until it yields an item, sleeping in between. Each look and the
    /// registration as a sleeper that may follow it are one critical section.
    @inlinable
    func waitForItem() async -> Key? {
        let id = state.withLock { $0.newID() }
        var woken = false
        while true {
            let look: Look = await withTaskCancellationHandler {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Look, Never>) in
                    let now = metricsNow
                    let (look, wake): (Look?, UnsafeContinuation<Look, Never>?) = state.withLock { s in
                        if woken { s.pendingWakes -= 1 }
                        let look: Look?
                        switch Self.pop(&s, now: now) {
                        case .item(let item, let waited):
                            look = .item(item, waited: waited)
                        case .shutDown:
                            look = Look.none
                        case .empty:
                            // Checked under the lock: a cancellation handler that ran before this
                            // point found nothing to remove, so this code answers for it.
                            if Task.isCancelled {
                                look = Look.none
                            } else {
                                s.sleepers.append(Sleeper(id: id, continuation: continuation))
                                look = nil  // stored: resumed by a waker, shutdown or cancellation
                            }
                        }
                        return (look, s.wakeIfNeeded())
                    }
                    wake?.resume(returning: .again)
                    if let look { continuation.resume(returning: look) }
                }
            } onCancel: {
                let sleeper: Sleeper? = state.withLock { s in
                    guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.sleepers.remove(at: i)
                }
                sleeper?.continuation.resume(returning: .none)
            }
            switch look {
            case .item(let item, let waited):
                gotMetrics(waited: waited)
                return item
            case .none:
                return nil
            case .again:
                woken = true
            }
        }
    }

    // MARK: Done

    /// Marks the end of processing `item`. If it was added meanwhile, it becomes waiting again.
    /// Calling it for an item that is not being processed does nothing.
    @inlinable
    public func done(_ item: Key) {
        let now = metricsNow
        var worked: Int64?
        var wake: UnsafeContinuation<Look, Never>?
        var drained: [UnsafeContinuation<Void, Never>] = []
        state.withLock { s in
            guard let i = s.items.index(forKey: item) else { return }
            let entry = s.items.values[i]
            switch entry.state {
            case .queued:
                return
            case .processing:
                s.items.remove(at: i)
            case .processingDirty:
                s.items.values[i].state = .queued
                s.queue.append(item)
                wake = s.wakeIfNeeded()
            }
            s.processingCount -= 1
            worked = now - entry.startedAt
            if s.processingCount == 0, !s.drainWaiters.isEmpty {
                drained = Array(s.drainWaiters.values)
                s.drainWaiters = [:]
            }
        }
        if let worked, let metrics { metrics.workDuration.recordNanoseconds(worked) }
        wake?.resume(returning: .again)
        for waiter in drained { waiter.resume() }
    }

    // MARK: Shutting down

    /// Stops accepting items, wakes every sleeping getter, and lets getters drain what is already
    /// queued (then they get nil). Also ends a pending `shutDownWithDrain()`.
    public func shutDown() {
        let (sleepers, waiters) = state.withLock { s in
            let sleepers = s.beginShutdown()
            defer { s.drainWaiters = [:] }
            return (sleepers, Array(s.drainWaiters.values))
        }
        for sleeper in sleepers { sleeper.continuation.resume(returning: .again) }
        for waiter in waiters { waiter.resume() }
    }

    /// Shuts down like `shutDown()`, then waits until no item is being processed (every item handed
    /// out has been passed to `done`), or until `shutDown()` is called or the task is cancelled.
    public func shutDownWithDrain() async {
        let id = state.withLock { $0.newID() }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let (sleepers, waiting) = state.withLock { s in
                    let sleepers = s.beginShutdown()
                    guard s.processingCount > 0, !Task.isCancelled else { return (sleepers, false) }
                    s.drainWaiters[id] = continuation
                    return (sleepers, true)
                }
                for sleeper in sleepers { sleeper.continuation.resume(returning: .again) }
                if !waiting { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.drainWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    // MARK: Inspection

    /// Items waiting to be handed out (not counting items dirty while being processed).
    public var len: Int { state.withLock { $0.queue.count } }

    /// Items being processed (handed out by `get()` and not yet `done`).
    public var processingCount: Int { state.withLock { $0.processingCount } }

    /// Tasks suspended in `get()` waiting for an item (not counting ones woken and about to look again).
    public var waitingGetterCount: Int { state.withLock { $0.sleepers.count } }

    /// Whether `shutDown()` or `shutDownWithDrain()` was called.
    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    // MARK: Periodic metrics

    /// Sets `workqueue_unfinished_work_seconds` and `workqueue_longest_running_processor_seconds`
    /// from the items now being processed. The owner calls it periodically (client-go: every 500 ms),
    /// e.g. with `runUnfinishedWorkUpdates(every:)`.
    public func updateUnfinishedWork() {
        guard let metrics else { return }
        let now = clock.now.nanoseconds
        let (total, oldest) = state.withLock { s in
            var total: Int64 = 0
            var oldest: Int64 = 0
            for entry in s.items.values where entry.state != .queued {
                let age = now - entry.startedAt
                total += age
                oldest = max(oldest, age)
            }
            return (total, oldest)
        }
        metrics.unfinishedWork.record(Double(total) / 1e9)
        metrics.longestRunningProcessor.record(Double(oldest) / 1e9)
    }

    /// Calls `updateUnfinishedWork()` every `period` on the queue's clock until the queue shuts
    /// down or the task is cancelled. Returns at once when the queue has no metrics.
    public func runUnfinishedWorkUpdates(every period: Duration = .milliseconds(500)) async {
        guard metrics != nil else { return }
        while !isShuttingDown {
            updateUnfinishedWork()
            do { try await clock.sleep(until: clock.now + period) } catch { return }
        }
    }
}
