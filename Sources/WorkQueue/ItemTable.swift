import CWorkQueueSupport

extension WorkQueue {
    /// The items a queue holds, each with its state and metric timings, and the FIFO of the
    /// waiting ones, in one structure built for queues of any length.
    ///
    /// Items live in `slots`, a slab whose free slots are chained and reused. An
    /// open-addressing index (linear probing, at most 3/4 full) maps an item to its slot:
    /// each bucket holds 32 bits of the item's hash and the slot number, so a probe reads
    /// one compact word per bucket and looks at a slot (to compare keys) only when the hash
    /// bits match. The FIFO of waiting items is linked through the slots, so handing out
    /// the next item needs no lookup at all. Per item handed through the queue that is
    /// one hash and one index probe for the add, and one of each for `done`; the index
    /// grows from the stored hash bits, without hashing a key again. Compared with a
    /// `Dictionary` of entries and a `Deque` of keys, a long queue touches far less
    /// memory at random (the index is 8 bytes per bucket and the slots are handed out in
    /// FIFO order), and no key is hashed twice.
    ///
    /// When most slots are free (fewer than 1 in 8 live, past 1,024 slots) the table is
    /// rebuilt compact, the waiting items first in their order, so a queue that once held
    /// a million items does not keep their memory.
    ///
    /// Invariants: `count` slots are live (`state != .free`, key set) and each is in the
    /// index exactly once; the FIFO from `head` through `next` holds exactly the live slots
    /// in state `.queued`, `queuedCount` of them; the free slots are chained from
    /// `freeHead`; the index has a power-of-two number of buckets and linear-probe chains
    /// without gaps between an entry and its home bucket.
    @usableFromInline
    struct ItemTable {
        @usableFromInline
        struct Slot {
            /// The item; nil while the slot is free.
            @usableFromInline var key: Key?
            /// The next slot in the FIFO (queued) or in the free chain (free); -1: none.
            @usableFromInline var next: Int32
            /// The low 32 bits of the key's hash.
            @usableFromInline var hash: UInt32
            @usableFromInline var state: ItemState
            /// When the item last became dirty, in nanoseconds on the queue's clock (metrics only).
            @usableFromInline var addedAt: Int64
            /// When the item was last handed out, in nanoseconds on the queue's clock (metrics only).
            @usableFromInline var startedAt: Int64

            @inlinable
            init(key: Key?, next: Int32, hash: UInt32, state: ItemState, addedAt: Int64, startedAt: Int64) {
                self.key = key
                self.next = next
                self.hash = hash
                self.state = state
                self.addedAt = addedAt
                self.startedAt = startedAt
            }
        }

        @usableFromInline var slots: [Slot] = []
        /// 0: empty; otherwise the hash bits in the high half and the slot number + 1 in the low half.
        @usableFromInline var buckets: [UInt64]
        @usableFromInline var mask: Int
        /// Live slots.
        @usableFromInline var count = 0
        @usableFromInline var freeHead: Int32 = -1
        /// The FIFO of waiting items (slot numbers); -1: empty.
        @usableFromInline var head: Int32 = -1
        @usableFromInline var tail: Int32 = -1
        @usableFromInline var queuedCount = 0

        @usableFromInline static var minimumBuckets: Int { 16 }
        /// Slots past which a mostly free table is compacted.
        @usableFromInline static var compactionFloor: Int { 1024 }

        @inlinable
        init() {
            buckets = Array(repeating: 0, count: Self.minimumBuckets)
            mask = Self.minimumBuckets - 1
        }

        @inlinable
        static func hash(_ key: Key) -> UInt32 {
            UInt32(truncatingIfNeeded: key.hashValue)
        }

        // MARK: Lookup

        /// The bucket and slot of `key` (whose hash is `hash`), or nil.
        @inlinable
        func find(_ key: Key, hash: UInt32) -> (bucket: Int, slot: Int)? {
            var b = Int(hash) & mask
            while true {
                let word = buckets[b]
                if word == 0 { return nil }
                if UInt32(truncatingIfNeeded: word &>> 32) == hash {
                    let slot = Int(UInt32(truncatingIfNeeded: word)) &- 1
                    if slots[slot].key == key { return (b, slot) }
                }
                b = (b &+ 1) & mask
            }
        }

        // MARK: Prefetching

        /// Starts loading the home bucket of an item whose hash is `hash`, so that a `find` or
        /// `insert` for it soon after does not wait for memory. In a long queue the index is
        /// far larger than the caches and its buckets are reached at random, so each lookup
        /// would otherwise cost a full trip to memory (150–200 ns on the machines measured);
        /// prefetching many at once overlaps those trips.
        @inlinable
        func prefetch(hash: UInt32) {
            buckets.withUnsafeBufferPointer { plugboard_prefetch($0.baseAddress! + (Int(hash) & mask)) }
        }

        /// Prefetches the home bucket of the first waiting item: the item handed out next, whose
        /// `done` will look it up.
        @inlinable
        func prefetchHead() {
            if head >= 0 { prefetch(hash: slots[Int(head)].hash) }
        }

        // MARK: Inserting and removing

        /// Adds `key` (not in the table; its hash is `hash`) in `state`, outside the FIFO; returns its slot.
        @inlinable
        mutating func insert(_ key: Key, hash: UInt32, state: ItemState, addedAt: Int64) -> Int {
            if (count &+ 1) &* 4 > buckets.count &* 3 { rebuildIndex(buckets: buckets.count &* 2) }
            let slot: Int
            if freeHead >= 0 {
                slot = Int(freeHead)
                freeHead = slots[slot].next
                slots[slot] = Slot(key: key, next: -1, hash: hash, state: state, addedAt: addedAt, startedAt: 0)
            } else {
                precondition(slots.count < Int(Int32.max), "a work queue holds at most 2^31 - 1 items")
                slot = slots.count
                slots.append(Slot(key: key, next: -1, hash: hash, state: state, addedAt: addedAt, startedAt: 0))
            }
            place(hash: hash, slot: slot)
            count &+= 1
            return slot
        }

        /// Puts slot `slot` (hash `hash`) in the first empty bucket of its probe chain.
        @inlinable
        mutating func place(hash: UInt32, slot: Int) {
            var b = Int(hash) & mask
            while buckets[b] != 0 { b = (b &+ 1) & mask }
            buckets[b] = UInt64(hash) &<< 32 | UInt64(slot &+ 1)
        }

        /// Removes the item in `slot`, found in `bucket` (not in the FIFO), and frees the slot.
        @inlinable
        mutating func remove(bucket: Int, slot: Int) {
            // Backward-shift deletion: later entries of the chain that may move into the hole do.
            var hole = bucket
            var j = bucket
            while true {
                j = (j &+ 1) & mask
                let word = buckets[j]
                if word == 0 { break }
                let home = Int(UInt32(truncatingIfNeeded: word &>> 32)) & mask
                // The entry stays if its home lies cyclically in (hole, j].
                let stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
                if !stays {
                    buckets[hole] = word
                    hole = j
                }
            }
            buckets[hole] = 0
            slots[slot].key = nil
            slots[slot].state = .free
            slots[slot].next = freeHead
            freeHead = Int32(truncatingIfNeeded: slot)
            count &-= 1
            if count == 0 {
                reset()
            } else if slots.count > Self.compactionFloor && count &* 8 < slots.count {
                compact()
            }
        }

        // MARK: The FIFO

        /// Appends `slot` to the FIFO of waiting items.
        @inlinable
        mutating func enqueue(_ slot: Int) {
            let s = Int32(truncatingIfNeeded: slot)
            slots[slot].next = -1
            if tail >= 0 { slots[Int(tail)].next = s } else { head = s }
            tail = s
            queuedCount &+= 1
        }

        /// Takes the first slot off the FIFO of waiting items, if any.
        @inlinable
        mutating func dequeue() -> Int? {
            guard head >= 0 else { return nil }
            let slot = Int(head)
            head = slots[slot].next
            if head < 0 { tail = -1 }
            queuedCount &-= 1
            return slot
        }

        // MARK: Rebuilding

        /// Empties the slab once the last item has left (the index is empty already: deletion
        /// leaves no marks), so new items take slots from the start again; a large table also
        /// gives its memory back.
        @inlinable
        mutating func reset() {
            if slots.count > Self.compactionFloor {
                slots = []
                buckets = Array(repeating: 0, count: Self.minimumBuckets)
                mask = Self.minimumBuckets - 1
            } else {
                slots.removeAll(keepingCapacity: true)
            }
            freeHead = -1
        }

        /// Builds an index of `buckets` buckets (a power of two) over the live slots, from their stored hash bits.
        @inlinable
        mutating func rebuildIndex(buckets size: Int) {
            buckets = Array(repeating: 0, count: size)
            mask = size - 1
            for slot in slots.indices where slots[slot].state != .free {
                place(hash: slots[slot].hash, slot: slot)
            }
        }

        /// The smallest power-of-two bucket count that keeps `count` items at most 3/4 full.
        @inlinable
        static func bucketCount(for count: Int) -> Int {
            var size = minimumBuckets
            while count * 4 > size * 3 { size *= 2 }
            return size
        }

        /// Rebuilds the table with only its live slots: the waiting ones first, in FIFO
        /// order, then the ones being processed; the index sized for them.
        @inlinable
        mutating func compact() {
            var packed: [Slot] = []
            packed.reserveCapacity(count)
            var s = head
            while s >= 0 {
                let slot = slots[Int(s)]
                s = slot.next
                packed.append(slot)
            }
            let queued = packed.count
            for slot in slots where slot.state == .processing || slot.state == .processingDirty {
                packed.append(slot)
            }
            precondition(queued == queuedCount && packed.count == count, "the work queue's item table is inconsistent")
            for i in 0..<queued { packed[i].next = i + 1 < queued ? Int32(i + 1) : -1 }
            slots = packed
            freeHead = -1
            head = queued > 0 ? 0 : -1
            tail = queued > 0 ? Int32(queued - 1) : -1
            rebuildIndex(buckets: Self.bucketCount(for: count))
        }
    }
}
