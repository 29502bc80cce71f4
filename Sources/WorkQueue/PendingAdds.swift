import Synchronization

// Adds pushed without the queue's lock, and the nodes that carry them.
//
// While the lock is taken, `add` does not wait for it: it pushes the add onto `pendingWord`,
// a lock-free stack, and the next critical section applies it. The nodes are recycled: a
// critical section that applies a batch hands the nodes back in one push onto
// `PendingWord.recycled`, and adders take them from there through `nodePool`. Taking nodes
// from `malloc` on the adder's thread and freeing them on the thread that applied them cost
// about a quarter of the time of the `workqueue` benchmark's scenario (a).

extension WorkQueue {
    /// One add not yet applied to `state` (see `add(_:)`).
    @usableFromInline
    struct PendingAdd {
        /// The next older add. (A free node, its `PendingAdd` deinitialized, keeps its link to
        /// the next free node in its first bytes instead: see `freeLink`.)
        @usableFromInline var next: UnsafeMutablePointer<PendingAdd>?
        @usableFromInline let item: Key
        /// The item's hash (`ItemTable.hash`), computed by the adder.
        @usableFromInline let hash: UInt32
        /// When it was added (metrics only).
        @usableFromInline let at: Int64

        @inlinable
        init(next: UnsafeMutablePointer<PendingAdd>?, item: Key, hash: UInt32, at: Int64) {
            self.next = next
            self.item = item
            self.hash = hash
            self.at = at
        }
    }

    /// Free nodes that adders take, linked through `freeLink` (guarded by its own lock, which
    /// only adders take).
    @usableFromInline
    struct NodePool {
        @usableFromInline var head: UnsafeMutablePointer<PendingAdd>?

        @usableFromInline
        init() {}
    }

    // The pending word (`PendingWord.word`) is 0 (none), `sleepersTag` (getters sleep and none
    // has been woken: adds go through the lock, to wake one), `shutDownTag` (adds are
    // ignored), or a pointer to the newest `PendingAdd` in the low 48 bits with the number of
    // adds pushed (modulo 2^16) above. Adders only ever replace 0 or a
    // pointer by a pointer; every other change is made under the lock. Hence (whenever the lock
    // is free): pending adds exist only while no getter sleeps or a woken getter is on its way
    // (whose look applies them), and the word is `shutDownTag` exactly when
    // `State.shuttingDown`. Every critical section first applies the pending adds, in the
    // order they were pushed. An add is linearized at its push: any later operation that looks
    // at the queue sees it applied.
    @usableFromInline static var sleepersTag: UInt { 1 }
    @usableFromInline static var shutDownTag: UInt { 2 }
    /// Both words keep a count above this many bits (pushed adds; recycled nodes).
    @usableFromInline static var countShift: UInt { 48 }
    @usableFromInline static var countMask: UInt { (1 << 16) - 1 }
    @usableFromInline static var pointerMask: UInt { (1 << 48) - 1 }
    /// Every this-many-th pushed add tries the lock to apply the pushed adds (see `add(_:)`).
    @usableFromInline static var pendingBatch: UInt { 64 }
    /// An add that finds this many adds pushed and not yet applied (at a multiple of
    /// `pendingBatch`) waits for the lock instead of trying it. Without this bound a producer
    /// that outruns the critical sections (their thread preempted, say) pushed batches of over
    /// 100,000 adds; every such batch passed `maxRecycled` and its nodes were freed, so that
    /// each add of the `workqueue` benchmark's scenario (a) cost a `malloc` and a `free`.
    @usableFromInline static var maxPending: UInt { 4096 }
    /// At most this many nodes wait in `PendingWord.recycled`; a batch that would pass it is
    /// freed instead, so a burst of pushes does not keep its nodes for the queue's lifetime.
    @usableFromInline static var maxRecycled: UInt { 1 << 14 }

    /// The free node after `node` (whose `PendingAdd` is not initialized).
    @inlinable
    static func freeLink(_ node: UnsafeMutablePointer<PendingAdd>) -> UnsafeMutablePointer<PendingAdd>? {
        UnsafeMutablePointer(bitPattern: UnsafeMutableRawPointer(node).load(as: UInt.self))
    }

    @inlinable
    static func setFreeLink(_ node: UnsafeMutablePointer<PendingAdd>, to next: UnsafeMutablePointer<PendingAdd>?) {
        UnsafeMutableRawPointer(node).storeBytes(of: UInt(bitPattern: next), as: UInt.self)
    }

    /// A node for an add to push (its `PendingAdd` not initialized): a recycled one if any is
    /// free, else a new one.
    @inlinable
    func takeNode() -> UnsafeMutablePointer<PendingAdd> {
        let node = nodePool.withLock { pool -> UnsafeMutablePointer<PendingAdd>? in
            if pool.head == nil {
                // Take every recycled node at once: an exchange, so no node is read while
                // another thread may be taking it.
                let chain = pendingWord.recycled.exchange(0, ordering: .acquiring)
                pool.head = UnsafeMutablePointer(bitPattern: chain & Self.pointerMask)
            }
            guard let node = pool.head else { return nil }
            pool.head = Self.freeLink(node)
            return node
        }
        return node ?? .allocate(capacity: 1)
    }

    /// Hands back `count` free nodes, linked from `head` to `tail`, for adders to reuse; frees
    /// them if that would leave more than `maxRecycled` waiting.
    @inlinable
    func recycle(head: UnsafeMutablePointer<PendingAdd>, tail: UnsafeMutablePointer<PendingAdd>, count: UInt) {
        var word = pendingWord.recycled.load(ordering: .relaxed)
        while true {
            let held = word >> Self.countShift
            if held + count > Self.maxRecycled {
                Self.deallocateFree(head)
                return
            }
            Self.setFreeLink(tail, to: UnsafeMutablePointer(bitPattern: word & Self.pointerMask))
            let (pushed, found) = pendingWord.recycled.compareExchange(
                expected: word, desired: ((held + count) << Self.countShift) | UInt(bitPattern: head),
                successOrdering: .releasing, failureOrdering: .relaxed)
            if pushed { return }
            word = found
        }
    }

    /// Frees the free nodes linked from `head`.
    @inlinable
    static func deallocateFree(_ head: UnsafeMutablePointer<PendingAdd>?) {
        var next = head
        while let node = next {
            next = freeLink(node)
            node.deallocate()
        }
    }

    /// Applies to `s`, oldest first, the adds in the pending word `word` (if any), and recycles
    /// their nodes.
    ///
    /// The first pass, which reverses the list, also prefetches each add's home bucket, so the
    /// index lookups of the second pass find them loaded: a batch of adds costs about one trip
    /// to memory instead of one each.
    @inlinable
    func apply(_ word: UInt, to s: inout State) {
        guard word & Self.pointerMask > Self.shutDownTag else { return }
        var rest = UnsafeMutablePointer<PendingAdd>(bitPattern: word & Self.pointerMask)
        var oldestFirst: UnsafeMutablePointer<PendingAdd>? = nil
        while let node = rest {
            rest = node.pointee.next
            s.table.prefetch(hash: node.pointee.hash)
            node.pointee.next = oldestFirst
            oldestFirst = node
        }
        // The applied nodes, freed, chained newest first: the oldest is the chain's tail.
        var freed: UnsafeMutablePointer<PendingAdd>? = nil
        var tail: UnsafeMutablePointer<PendingAdd>? = nil
        var count: UInt = 0
        while let node = oldestFirst {
            oldestFirst = node.pointee.next
            _ = Self.add(node.pointee.item, hash: node.pointee.hash, to: &s, now: node.pointee.at)
            node.deinitialize(count: 1)
            Self.setFreeLink(node, to: freed)
            if tail == nil { tail = node }
            freed = node
            count += 1
        }
        if let freed, let tail { recycle(head: freed, tail: tail, count: count) }
    }

    /// Frees every node: the adds still pending (never applied, as when the queue goes away
    /// with adds pushed after its last critical section), the recycled ones and the pool's.
    func freePendingAdds() {
        let word = pendingWord.word.load(ordering: .acquiring)
        if word & Self.pointerMask > Self.shutDownTag {
            var next = UnsafeMutablePointer<PendingAdd>(bitPattern: word & Self.pointerMask)
            while let node = next {
                next = node.pointee.next
                node.deinitialize(count: 1)
                node.deallocate()
            }
        }
        Self.deallocateFree(UnsafeMutablePointer(bitPattern: pendingWord.recycled.load(ordering: .acquiring) & Self.pointerMask))
        nodePool.withLock { pool in
            Self.deallocateFree(pool.head)
            pool.head = nil
        }
    }
}

/// The pending-adds word of a `WorkQueue`, alone in its cache lines: adders write it on every
/// add, and it must not share a line with the lock and the state that getters work on.
@usableFromInline
final class PendingWord: Sendable {
    private let before: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                         UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    @usableFromInline let word = Atomic<UInt>(0)
    /// Free nodes handed back by critical sections, for adders (a pointer to the first in the
    /// low 48 bits, their number above). Only whole chains are pushed, and adders take them
    /// all at once, so no node is read by one thread while another takes it.
    @usableFromInline let recycled = Atomic<UInt>(0)
    /// Whether no item was being processed at the end of the last critical section (a hint,
    /// set under the lock when it changes; read by adders without it).
    @usableFromInline let idle = Atomic<Bool>(true)
    private let after: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    @usableFromInline init() {}
}
