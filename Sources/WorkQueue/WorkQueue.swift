import Metrics
import DequeModule
import Synchronization

/// A deduplicating FIFO of keys for controllers, with client-go's workqueue semantics.
///
/// Invariants (of `State`, each holding whenever the lock is free):
/// 1. An item is in at most one of "waiting" (state `.queued`) and "processing" (state `.processing` or `.processingDirty`).
/// 2. `queue` holds exactly the items whose state is `.queued`, each exactly once, in the order they became waiting.
/// 3. `processingCount` is the number of items whose state is `.processing` or `.processingDirty`.
/// 4. `getters` is non-empty only while `queue` is empty and the queue is not shutting down.
/// 5. `shuttingDown` never goes back to false, and while it is true `add` changes nothing.
/// 6. `drainWaiters` is non-empty only while shutting down with items still processing.
/// 7. With metrics on, `addTimes` holds exactly the dirty items (`.queued`, `.processingDirty`) and
///    `startTimes` exactly the processing ones; with metrics off both are empty.
///
/// Hence: adding a waiting item is a no-op; adding an item being processed marks it dirty and it is
/// queued again (once) when `done` is called; an item is never handed to two workers at once.
/// A getter that suspends is handed the next item directly by `add`/`done`, so no wake-up is lost.
/// Suspended getters and drain waiters use `UnsafeContinuation` (cheap to copy on the hot path);
/// each is resumed exactly once because whoever resumes it first removes it from `State` under the lock.
public final class WorkQueue<Key: Hashable & Sendable>: WorkQueueProtocol {
    @usableFromInline
    enum ItemState: UInt8 {
        case queued
        case processing
        case processingDirty
    }

    @usableFromInline
    struct Getter {
        @usableFromInline let id: UInt64
        @usableFromInline let continuation: UnsafeContinuation<Key?, Never>

        @inlinable
        init(id: UInt64, continuation: UnsafeContinuation<Key?, Never>) {
            self.id = id
            self.continuation = continuation
        }
    }

    @usableFromInline
    struct State {
        @usableFromInline var queue = Deque<Key>()
        @usableFromInline var items: [Key: ItemState] = [:]
        @usableFromInline var processingCount = 0
        @usableFromInline var getters = Deque<Getter>()
        @usableFromInline var drainWaiters: [UInt64: UnsafeContinuation<Void, Never>] = [:]
        @usableFromInline var shuttingDown = false
        @usableFromInline var nextID: UInt64 = 0
        @usableFromInline var addTimes: [Key: WorkQueueInstant] = [:]
        @usableFromInline var startTimes: [Key: WorkQueueInstant] = [:]

        @usableFromInline
        init() {}

        mutating func newID() -> UInt64 {
            nextID &+= 1
            return nextID
        }

        /// Sets `shuttingDown` and removes the getters (which must be resumed with nil).
        mutating func beginShutdown() -> Deque<Getter> {
            shuttingDown = true
            defer { getters = [] }
            return getters
        }
    }

    /// What one add did, for the caller to finish outside the lock.
    @usableFromInline
    enum AddOutcome {
        case ignored
        /// The item became dirty (waiting, or dirty while processing).
        case marked
        /// The item went straight to a suspended getter.
        case handedOff(UnsafeContinuation<Key?, Never>)
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

    // MARK: Adding

    @inlinable
    public func add(_ item: Key) {
        let now = metrics == nil ? nil : clock.now
        let outcome = state.withLock { s in Self.add(item, to: &s, now: now) }
        finish(outcome, item)
    }

    /// Adds every item of `items` under one acquisition of the lock.
    public func add(contentsOf items: some Sequence<Key>) {
        let now = metrics == nil ? nil : clock.now
        let outcomes: [(AddOutcome, Key)] = state.withLock { s in
            var outcomes: [(AddOutcome, Key)] = []
            for item in items {
                let outcome = Self.add(item, to: &s, now: now)
                if case .ignored = outcome { continue }
                outcomes.append((outcome, item))
            }
            return outcomes
        }
        for (outcome, item) in outcomes { finish(outcome, item) }
    }

    @inlinable
    static func add(_ item: Key, to s: inout State, now: WorkQueueInstant?) -> AddOutcome {
        if s.shuttingDown { return .ignored }
        if let i = s.items.index(forKey: item) {
            guard s.items.values[i] == .processing else { return .ignored }  // already dirty
            s.items.values[i] = .processingDirty
            if let now { s.addTimes[item] = now }
            return .marked
        }
        if let getter = s.getters.popFirst() {
            s.items[item] = .processing
            s.processingCount += 1
            if let now { s.startTimes[item] = now }
            return .handedOff(getter.continuation)
        }
        s.items[item] = .queued
        s.queue.append(item)
        if let now { s.addTimes[item] = now }
        return .marked
    }

    @inlinable
    func finish(_ outcome: AddOutcome, _ item: Key) {
        switch outcome {
        case .ignored:
            return
        case .marked:
            if let metrics {
                metrics.adds.increment()
                metrics.depth.increment()
            }
        case .handedOff(let continuation):
            if let metrics {
                metrics.adds.increment()
                metrics.queueDuration.record(0.0)
            }
            continuation.resume(returning: item)
        }
    }

    // MARK: Getting

    @usableFromInline
    enum GetOutcome {
        case item(Key, waited: Duration?)
        case shutDown
        case empty
    }

    @inlinable
    static func pop(_ s: inout State, now: WorkQueueInstant?) -> GetOutcome {
        if let item = s.queue.popFirst() {
            s.items[item] = .processing
            s.processingCount += 1
            var waited: Duration?
            if let now {
                if let added = s.addTimes.removeValue(forKey: item) { waited = now - added }
                s.startTimes[item] = now
            }
            return .item(item, waited: waited)
        }
        return s.shuttingDown ? .shutDown : .empty
    }

    @inlinable
    func gotMetrics(waited: Duration?) {
        guard let metrics else { return }
        metrics.depth.decrement()
        if let waited { metrics.queueDuration.record(waited.workQueueSeconds) }
    }

    /// The next item, which the caller must pass to `done` when finished with it.
    ///
    /// Suspends while the queue is empty. Returns nil once the queue is shut down and nothing is
    /// waiting, or if the calling task is cancelled while suspended.
    @inlinable
    public func get() async -> Key? {
        let now = metrics == nil ? nil : clock.now
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

    @usableFromInline
    func waitForItem() async -> Key? {
        let id = state.withLock { $0.newID() }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Key?, Never>) in
                let now = metrics == nil ? nil : clock.now
                let outcome: GetOutcome = state.withLock { s in
                    let outcome = Self.pop(&s, now: now)
                    if case .empty = outcome {
                        if Task.isCancelled { return .shutDown }
                        s.getters.append(Getter(id: id, continuation: continuation))
                    }
                    return outcome
                }
                switch outcome {
                case .item(let item, let waited):
                    gotMetrics(waited: waited)
                    continuation.resume(returning: item)
                case .shutDown:
                    continuation.resume(returning: nil)
                case .empty:
                    break  // resumed by add, done, shutdown or cancellation
                }
            }
        } onCancel: {
            let getter: Getter? = state.withLock { s in
                guard let i = s.getters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.getters.remove(at: i)
            }
            getter?.continuation.resume(returning: nil)
        }
    }

    // MARK: Done

    /// Marks the end of processing `item`. If it was added meanwhile, it becomes waiting again.
    /// Calling it for an item that is not being processed does nothing.
    @inlinable
    public func done(_ item: Key) {
        let now = metrics == nil ? nil : clock.now
        var worked: Duration?
        var waited: Duration?
        var handoff: UnsafeContinuation<Key?, Never>?
        let drained: [UnsafeContinuation<Void, Never>] = state.withLock { s in
            guard let i = s.items.index(forKey: item) else { return [] }
            switch s.items.values[i] {
            case .queued:
                return []
            case .processing:
                s.items.remove(at: i)
                s.processingCount -= 1
            case .processingDirty:
                if let getter = s.getters.popFirst() {
                    s.items.values[i] = .processing
                    handoff = getter.continuation
                } else {
                    s.items.values[i] = .queued
                    s.queue.append(item)
                    s.processingCount -= 1
                }
            }
            if let now {
                if let started = s.startTimes.removeValue(forKey: item) { worked = now - started }
                if handoff != nil {
                    if let added = s.addTimes.removeValue(forKey: item) { waited = now - added }
                    s.startTimes[item] = now
                }
            }
            guard s.processingCount == 0, !s.drainWaiters.isEmpty else { return [] }
            defer { s.drainWaiters = [:] }
            return Array(s.drainWaiters.values)
        }
        if let metrics {
            if let worked { metrics.workDuration.record(worked.workQueueSeconds) }
            if handoff != nil { gotMetrics(waited: waited) }
        }
        handoff?.resume(returning: item)
        for waiter in drained { waiter.resume() }
    }

    // MARK: Shutting down

    /// Stops accepting items, wakes every suspended getter (they return nil), and lets later
    /// getters drain what is already queued. Also ends a pending `shutDownWithDrain()`.
    public func shutDown() {
        let (getters, waiters) = state.withLock { s in
            let getters = s.beginShutdown()
            defer { s.drainWaiters = [:] }
            return (getters, Array(s.drainWaiters.values))
        }
        for getter in getters { getter.continuation.resume(returning: nil) }
        for waiter in waiters { waiter.resume() }
    }

    /// Shuts down like `shutDown()`, then waits until no item is being processed (every item handed
    /// out has been passed to `done`), or until `shutDown()` is called or the task is cancelled.
    public func shutDownWithDrain() async {
        let id = state.withLock { $0.newID() }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let (getters, waiting) = state.withLock { s in
                    let getters = s.beginShutdown()
                    guard s.processingCount > 0, !Task.isCancelled else { return (getters, false) }
                    s.drainWaiters[id] = continuation
                    return (getters, true)
                }
                for getter in getters { getter.continuation.resume(returning: nil) }
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

    /// Tasks suspended in `get()` waiting for an item.
    public var waitingGetterCount: Int { state.withLock { $0.getters.count } }

    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    // MARK: Periodic metrics

    /// Sets `workqueue_unfinished_work_seconds` and `workqueue_longest_running_processor_seconds`
    /// from the items now being processed. The owner calls it periodically (client-go: every 500 ms),
    /// e.g. with `runUnfinishedWorkUpdates(every:)`.
    public func updateUnfinishedWork() {
        guard let metrics else { return }
        let now = clock.now
        let (total, oldest) = state.withLock { s in
            var total = Duration.zero
            var oldest = Duration.zero
            for started in s.startTimes.values {
                let age = now - started
                total += age
                if age > oldest { oldest = age }
            }
            return (total, oldest)
        }
        metrics.unfinishedWork.record(total.workQueueSeconds)
        metrics.longestRunningProcessor.record(oldest.workQueueSeconds)
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
