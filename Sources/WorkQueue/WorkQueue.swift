import DequeModule
import Metrics
import Synchronization

/// A deduplicating FIFO of keys for controllers, with client-go's workqueue semantics.
///
/// Invariants (of `State`, each holding whenever the lock is free):
/// 1. An item is in at most one of "waiting" (`.queued`) and "processing" (`.processing` or
///    `.processingDirty`): `table` has one live slot per item, with one state.
/// 2. The table's FIFO holds exactly the items whose state is `.queued`, each once, in the order
///    they became waiting (`ItemTable` keeps its own invariants).
/// 3. `processingCount` is the number of items whose state is `.processing` or `.processingDirty`.
/// 4. Whenever the FIFO and `sleepers` are both non-empty, `pendingWakes > 0`: some getter has been
///    woken and has not yet looked at the queue again. Every critical section ends by waking a
///    sleeper when items wait and no wake is pending (`endSection`), so a woken getter that
///    leaves items behind wakes the next one. A getter becomes a sleeper only after finding the
///    FIFO empty, in the same critical section. Hence no item waits while every getter sleeps
///    (no lost wake-up).
/// 5. `shuttingDown` never goes back to false; while it is true `add` changes nothing and no getter sleeps.
/// 6. `drainWaiters` is non-empty only while shutting down with items still processing.
/// 7. With metrics on, a slot's `addedAt` is the time it last became dirty (`.queued`,
///    `.processingDirty`) and `startedAt` the time it was last handed out (`.processing*`).
///
/// 8. Adds may also wait, not yet applied, in `pendingWord` (see `PendingAdds.swift`): only
///    while no getter sleeps or a woken one is on its way (whose look applies them), and every
///    critical section applies them first, so invariants 1–7 hold for the state with them
///    applied, and every operation that reads the state sees every add that returned before it
///    began.
///
/// The lock is a `SpinLocked` (see there), not `Synchronization.Mutex`: with the queue's very
/// short sections, a waiter that backs off lets the holder run a burst of them on one core.
/// With metrics on, the metrics of an add, a get and a `done` are recorded inside the section,
/// as client-go records them under its lock: the metric objects are then touched by one core
/// at a time too.
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
        /// A free slot of the item table (no item).
        case free
    }

    /// The outcome of one look at the queue by a getter that had to wait.
    @usableFromInline
    enum Look: Sendable {
        /// An item.
        case item(Key)
        /// Return nil: shut down with nothing queued, or cancelled.
        case none
        /// Woken: look again.
        case again
    }

    @usableFromInline
    struct Sleeper: Sendable {
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
        /// The items held, their states, and the FIFO of the waiting ones.
        @usableFromInline var table = ItemTable()
        @usableFromInline var processingCount = 0
        @usableFromInline var sleepers = Deque<Sleeper>()
        @usableFromInline var pendingWakes = 0
        @usableFromInline var drainWaiters: [UInt64: UnsafeContinuation<Void, Never>] = [:]
        @usableFromInline var shuttingDown = false
        @usableFromInline var nextID: UInt64 = 0
        /// Whether `pending` holds `sleepersTag` (set and cleared only under the lock).
        @usableFromInline var tagged = false
        /// Adds marked (not deduplicated away) in this critical section, for the metrics.
        @usableFromInline var markedAdds = 0
        /// What `PendingWord.idle` was last set to (under the lock).
        @usableFromInline var idle = true

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
            guard pendingWakes == 0, table.queuedCount > 0, let sleeper = sleepers.popFirst() else { return nil }
            pendingWakes += 1
            return sleeper.continuation
        }

        /// Sets `shuttingDown` and removes every sleeper (to be resumed to look again, outside the lock).
        @inlinable
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
    @usableFromInline let state = SpinLocked(State())

    /// Adds pushed without the lock and not yet applied (see `PendingAdds.swift`).
    @usableFromInline let pendingWord = PendingWord()
    /// Free nodes for pushed adds, for adders to take (see `takeNode()`).
    @usableFromInline let nodePool = SpinLocked(NodePool())

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

    deinit {
        freePendingAdds()
        state.deallocate()
        nodePool.deallocate()
    }

    /// Applies the pending adds to `s` (under the lock). Nothing can be pending while the word
    /// is a tag, so this reads the word only when `s` says it is not one.
    @inlinable
    func applyPending(_ s: inout State) {
        if s.tagged || s.shuttingDown { return }
        if pendingWord.word.load(ordering: .relaxed) == 0 { return }
        apply(pendingWord.word.exchange(0, ordering: .acquiringAndReleasing), to: &s)
    }

    /// Applies the pending adds to `s` and sets `shutDownTag`: later adds are ignored. The caller
    /// then sets `s.shuttingDown` in the same critical section.
    @inlinable
    func applyPendingAndClose(_ s: inout State) {
        if s.shuttingDown { return }
        apply(pendingWord.word.exchange(Self.shutDownTag, ordering: .acquiringAndReleasing), to: &s)
        s.tagged = false
    }

    /// Runs `body` on the state under the lock, after applying the pending adds; then (see
    /// `endSection`) wakes a sleeping getter if one is needed, sets or clears `sleepersTag` and
    /// counts the adds applied; after unlocking it resumes that getter.
    @inlinable
    func locked<R: Sendable>(_ body: (inout State) -> R) -> R {
        let (result, end) = state.withLock { s in
            applyPending(&s)
            let result = body(&s)
            return (result, endSection(&s))
        }
        afterSection(end)
        return result
    }

    /// `locked(body)` if the lock is free now; nil (and nothing done) if it is taken.
    @inlinable
    func lockedIfAvailable<R: Sendable>(_ body: (inout State) -> R) -> R? {
        let attempt = state.withLockIfAvailable { s in
            applyPending(&s)
            let result = body(&s)
            return (result, endSection(&s))
        }
        guard let (result, end) = attempt else { return nil }
        afterSection(end)
        return result
    }

    /// The end of every critical section (the lock still held). Restores invariant 4 (wakes a
    /// sleeper if items wait and no woken getter is on its way), then sets `sleepersTag` exactly
    /// when getters sleep and none has been woken: only then must an adder take the lock, to
    /// wake one. While a woken getter is on its way, adders push without the lock, since that
    /// getter's look is a critical section that applies their adds (and wakes the next sleeper
    /// if items are left). Setting the tag swaps out adds pushed during the section; they are
    /// applied here, and may call for a wake.
    @inlinable
    func endSection(_ s: inout State) -> UnsafeContinuation<Look, Never>? {
        var wake = s.wakeIfNeeded()
        if !s.shuttingDown {
            if !s.tagged && s.pendingWakes == 0 && !s.sleepers.isEmpty {
                apply(pendingWord.word.exchange(Self.sleepersTag, ordering: .acquiringAndReleasing), to: &s)
                s.tagged = true
                wake = s.wakeIfNeeded()  // nil until here: a wake would have made pendingWakes > 0
            }
            if s.tagged && (s.pendingWakes > 0 || s.sleepers.isEmpty) {
                pendingWord.word.store(0, ordering: .releasing)  // no adder pushes onto a tag
                s.tagged = false
            }
        }
        let idle = s.processingCount == 0  // the hint for adders (`PendingWord.idle`)
        if idle != s.idle {
            s.idle = idle
            pendingWord.idle.store(idle, ordering: .relaxed)
        }
        if s.markedAdds > 0, let metrics {
            metrics.adds.increment(by: s.markedAdds)
            metrics.depth.increment(by: Double(s.markedAdds))
        }
        s.markedAdds = 0
        return wake
    }

    /// What `locked` does after unlocking: resumes the getter woken; with metrics, applies adds
    /// pushed meanwhile.
    @inlinable
    func afterSection(_ wake: UnsafeContinuation<Look, Never>?) {
        wake?.resume(returning: .again)
        if let metrics { flushPending(metrics) }
    }

    /// With metrics on, applies pending adds now (so that `workqueue_adds_total` and
    /// `workqueue_depth` count an add by the time it returns, or by the time the critical
    /// section it raced with ends), without ever waiting for the lock.
    ///
    /// An adder calls it after its push; so does every critical section after unlocking. If
    /// the lock is taken, its holder will call it after unlocking, and will see the push:
    /// with the fences, either the adder's try sees the lock free, or the holder's later load
    /// sees the push. Whoever applies adds unlocks in turn, hence the loop.
    @inlinable
    func flushPending(_ metrics: WorkQueueMetrics) {
        while true {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            if pendingWord.word.load(ordering: .relaxed) & Self.pointerMask <= Self.shutDownTag { return }
            guard let wake = state.withLockIfAvailable({ s -> UnsafeContinuation<Look, Never>? in
                applyPending(&s)
                return endSection(&s)
            }) else { return }
            wake?.resume(returning: .again)
        }
    }

    /// The clock's reading in nanoseconds when metrics are on; 0 (and no clock read) otherwise.
    @inlinable
    var metricsNow: Int64 {
        metrics == nil ? 0 : clock.nowNanoseconds
    }

    // MARK: Adding

    /// Marks `item` as needing processing: queues it unless it is already waiting; if it is being
    /// processed it is queued again when `done` is called for it. Ignored once shutting down.
    ///
    /// It does not wait for the lock. While items are being processed it does not take it
    /// either: it pushes the add onto `pendingWord` (see `PendingAdds.swift`), and the next
    /// critical section (every get and `done` has one) applies it; every `pendingBatch`-th
    /// pushed add tries the lock to apply the batch itself, which bounds the list while
    /// workers are busy for long. No add waits while a worker could take its item: a getter that
    /// finds the queue empty sleeps, and then, unless a woken getter is already on its way (its
    /// look applies the pushed adds), adds take the lock, to wake one. When no item is being
    /// processed and nothing is pending, it adds under the lock if the lock is free.
    ///
    /// In the `workqueue` benchmark (1 producer, 4 workers) an adder that took the lock
    /// whenever it found it free pulled the lock's cache line, and the table's, away from the
    /// workers at every add.
    @inlinable
    public func add(_ item: Key) {
        let now = metricsNow
        var word = pendingWord.word.load(ordering: .relaxed)
        if word == Self.shutDownTag { return }
        if word != Self.sleepersTag {
            if word == 0 && pendingWord.idle.load(ordering: .relaxed),
               lockedIfAvailable({ s in Self.add(item, to: &s, now: now) }) != nil { return }
            let node = takeNode()
            node.initialize(to: PendingAdd(next: nil, item: item, hash: ItemTable.hash(item), at: now))
            let bits = UInt(bitPattern: node)
            precondition(bits & ~Self.pointerMask == 0, "a heap address above 2^48")
            while word != Self.sleepersTag {
                if word == Self.shutDownTag {
                    node.deinitialize(count: 1)
                    node.deallocate()
                    return
                }
                node.pointee.next = UnsafeMutablePointer(bitPattern: word & Self.pointerMask)
                let count = ((word >> Self.countShift) &+ 1) & Self.countMask
                let (pushed, found) = pendingWord.word.compareExchange(
                    expected: word, desired: (count << Self.countShift) | bits,
                    successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed)
                if pushed {
                    if count % Self.pendingBatch == 0 && count >= Self.maxPending {
                        // The workers' sections do not keep up: wait for the lock and apply the
                        // pushed adds here, so the list stays short and its nodes are recycled.
                        _ = locked { _ in }
                    } else if let metrics {
                        flushPending(metrics)
                    } else if count % Self.pendingBatch == 0 {
                        _ = lockedIfAvailable { _ in }
                    }
                    return
                }
                word = found
            }
            node.deinitialize(count: 1)
            node.deallocate()
        }
        // A getter sleeps and none has been woken: add under the lock, which wakes one.
        _ = locked { s in Self.add(item, to: &s, now: now) }
    }

    /// Adds every item of `items` under one acquisition of the lock.
    @inlinable
    public func add(contentsOf items: some Sequence<Key>) {
        let now = metricsNow
        locked { s in
            for item in items { _ = Self.add(item, to: &s, now: now) }
        }
    }

    /// Marks `item` dirty in `s`; false when that changed nothing.
    @inlinable
    static func add(_ item: Key, to s: inout State, now: Int64) -> Bool {
        add(item, hash: ItemTable.hash(item), to: &s, now: now)
    }

    /// Marks `item`, whose hash is `hash`, dirty in `s`; false when that changed nothing.
    @inlinable
    static func add(_ item: Key, hash: UInt32, to s: inout State, now: Int64) -> Bool {
        if s.shuttingDown { return false }
        if let (_, slot) = s.table.find(item, hash: hash) {
            guard s.table.slots[slot].state == .processing else { return false }  // already dirty
            s.table.slots[slot].state = .processingDirty
            s.table.slots[slot].addedAt = now
            s.markedAdds += 1
            return true
        }
        s.table.enqueue(s.table.insert(item, hash: hash, state: .queued, addedAt: now))
        s.markedAdds += 1
        return true
    }

    // MARK: Getting

    @usableFromInline
    enum GetOutcome: Sendable {
        case item(Key)
        case shutDown
        case empty
    }

    /// Hands out the first waiting item of `s`, if any, and records its metrics.
    @inlinable
    static func pop(_ s: inout State, now: Int64, metrics: WorkQueueMetrics?) -> GetOutcome {
        guard let slot = s.table.dequeue() else {
            return s.shuttingDown ? .shutDown : .empty
        }
        if let metrics {
            metrics.depth.decrement()
            metrics.queueDuration.recordNanoseconds(now - s.table.slots[slot].addedAt)
        }
        // The next item's `done` will look up its bucket: start loading it now.
        s.table.prefetchHead()
        s.processingCount += 1
        s.table.slots[slot].state = .processing
        s.table.slots[slot].startedAt = now
        guard let item = s.table.slots[slot].key else { preconditionFailure("a queued slot holds no item") }
        return .item(item)
    }

    /// The next item, which the caller must pass to `done` when finished with it.
    ///
    /// Suspends while the queue is empty. Returns nil once the queue is shut down and nothing is
    /// waiting, or if the calling task is cancelled while suspended.
    @inlinable
    public func get() async -> Key? {
        let now = metricsNow
        switch locked({ Self.pop(&$0, now: now, metrics: metrics) }) {
        case .item(let item):
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
                    let look: Look? = locked { s in
                        if woken { s.pendingWakes -= 1 }
                        let look: Look?
                        switch Self.pop(&s, now: now, metrics: metrics) {
                        case .item(let item):
                            look = .item(item)
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
                        return look
                    }
                    if let look { continuation.resume(returning: look) }
                }
            } onCancel: {
                let sleeper: Sleeper? = locked { s in
                    guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                    return s.sleepers.remove(at: i)
                }
                sleeper?.continuation.resume(returning: .none)
            }
            switch look {
            case .item(let item):
                return item
            case .none:
                return nil
            case .again:
                woken = true
            }
        }
    }

    // MARK: Done

    /// Ends the processing of `item` in `s`: it leaves the queue, or (if added meanwhile) is
    /// queued again; records how long it was processed. Nothing changes when `item` was not
    /// being processed.
    @inlinable
    static func finish(_ item: Key, in s: inout State, now: Int64, metrics: WorkQueueMetrics?) {
        guard let (bucket, slot) = s.table.find(item, hash: ItemTable.hash(item)) else { return }
        let startedAt = s.table.slots[slot].startedAt
        switch s.table.slots[slot].state {
        case .queued, .free:
            return
        case .processing:
            s.table.remove(bucket: bucket, slot: slot)
        case .processingDirty:
            s.table.slots[slot].state = .queued
            s.table.enqueue(slot)
        }
        s.processingCount -= 1
        metrics?.workDuration.recordNanoseconds(now - startedAt)
    }

    /// The drain waiters to resume (outside the lock) when nothing is being processed any more.
    @inlinable
    static func takeDrainWaitersIfDrained(_ s: inout State) -> [UnsafeContinuation<Void, Never>] {
        guard s.processingCount == 0, !s.drainWaiters.isEmpty else { return [] }
        defer { s.drainWaiters = [:] }
        return Array(s.drainWaiters.values)
    }

    /// Marks the end of processing `item`. If it was added meanwhile, it becomes waiting again.
    /// Calling it for an item that is not being processed does nothing.
    @inlinable
    public func done(_ item: Key) {
        let now = metricsNow
        let drained = locked { s in
            Self.finish(item, in: &s, now: now, metrics: metrics)
            return Self.takeDrainWaitersIfDrained(&s)
        }
        for waiter in drained { waiter.resume() }
    }

    /// `done(previous)` and then `get()`, the two first steps under one acquisition of the lock:
    /// the loop of a worker, `while let k = next { …; next = await q.doneAndGet(k) }`.
    ///
    /// The result is what `done(previous)` followed at once by `get()` could give: if `previous`
    /// was added while being processed it is queued again (at the back) before the next item is
    /// taken; when the queue is empty the caller suspends as in `get()`. The one difference is
    /// that no instant separates the two steps: a `shutDownWithDrain()` waiting for the items
    /// being processed is released here only when nothing is being processed after the get
    /// (that is, when no item was left to take), or later when the caller's next `done` ends it.
    @inlinable
    public func doneAndGet(_ previous: Key) async -> Key? {
        let now = metricsNow
        let (outcome, drained) = locked { s in
            Self.finish(previous, in: &s, now: now, metrics: metrics)
            let outcome = Self.pop(&s, now: now, metrics: metrics)
            return (outcome, Self.takeDrainWaitersIfDrained(&s))
        }
        for waiter in drained { waiter.resume() }
        switch outcome {
        case .item(let item):
            return item
        case .shutDown:
            return nil
        case .empty:
            return await waitForItem()
        }
    }

    /// The items of this queue as an async sequence, for one worker: each `next()` marks the item
    /// it returned last as done and takes the next one, under one acquisition of the lock (see
    /// `doneAndGet(_:)`). Iteration ends (nil) as `get()` does: shut down and drained, or the task
    /// cancelled while waiting; the last item is then already done.
    ///
    /// Leaving the loop early (`break`, `return`, a thrown error) does not mark the item of the
    /// current pass done: call `done(_:)` for it, as after `get()`.
    ///
    ///     for await key in queue.items() { try? await reconcile(key) }
    public func items() -> WorkQueueItems<Key> {
        WorkQueueItems(queue: self)
    }

    // MARK: Shutting down

    /// Stops accepting items, wakes every sleeping getter, and lets getters drain what is already
    /// queued (then they get nil). Also ends a pending `shutDownWithDrain()`.
    ///
    /// Inlinable (like `add`, `get` and `done`), so that it is specialized for the key type: it
    /// applies whatever adds are still pushed, possibly many.
    @inlinable
    public func shutDown() {
        let (sleepers, waiters) = locked { s in
            applyPendingAndClose(&s)
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
                let (sleepers, waiting) = locked { s in
                    applyPendingAndClose(&s)
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
    @inlinable
    public var len: Int { locked { $0.table.queuedCount } }

    /// Items being processed (handed out by `get()` and not yet `done`).
    public var processingCount: Int { state.withLock { $0.processingCount } }

    /// Tasks suspended in `get()` waiting for an item (not counting ones woken and about to look again).
    public var waitingGetterCount: Int { state.withLock { $0.sleepers.count } }

    /// Whether `shutDown()` or `shutDownWithDrain()` was called.
    ///
    /// Read without the lock: the pending word is `shutDownTag` exactly when `State.shuttingDown` (it is
    /// set in the critical section that sets the flag, and never changes again).
    @inlinable
    public var isShuttingDown: Bool { pendingWord.word.load(ordering: .acquiring) == Self.shutDownTag }

    // MARK: Periodic metrics

    /// Sets `workqueue_unfinished_work_seconds` and `workqueue_longest_running_processor_seconds`
    /// from the items now being processed. The owner calls it periodically (client-go: every 500 ms),
    /// e.g. with `runUnfinishedWorkUpdates(every:)`.
    public func updateUnfinishedWork() {
        guard let metrics else { return }
        let now = clock.nowNanoseconds
        let (total, oldest) = locked { s in
            var total: Int64 = 0
            var oldest: Int64 = 0
            for entry in s.table.slots where entry.state == .processing || entry.state == .processingDirty {
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

/// The items of a `WorkQueue` for one worker: see `WorkQueue.items()`.
public struct WorkQueueItems<Key: Hashable & Sendable>: AsyncSequence, Sendable {
    public typealias Element = Key
    public typealias Failure = Never

    @usableFromInline let queue: WorkQueue<Key>

    @inlinable
    init(queue: WorkQueue<Key>) { self.queue = queue }

    @inlinable
    public func makeAsyncIterator() -> Iterator {
        Iterator(queue: queue)
    }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = Key
        public typealias Failure = Never

        @usableFromInline let queue: WorkQueue<Key>
        /// The item returned last, not yet done; nil before the first and after the last.
        @usableFromInline var current: Key?
        @usableFromInline var finished = false

        @inlinable
        init(queue: WorkQueue<Key>) { self.queue = queue }

        /// Marks the item returned last done and returns the next one; nil once the queue is shut
        /// down and drained (or the task was cancelled while waiting), and from then on.
        @inlinable
        public mutating func next() async -> Key? {
            await next(isolation: nil)
        }

        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async -> Key? {
            if finished { return nil }
            let next = await Self.advance(queue, from: current)
            current = next
            if next == nil { finished = true }
            return next
        }

        @inlinable
        static func advance(_ queue: WorkQueue<Key>, from previous: Key?) async -> Key? {
            if let previous { await queue.doneAndGet(previous) } else { await queue.get() }
        }
    }
}
