import SeededRandom
import Testing
@testable import WorkQueue

/// A key whose hash the test chooses: `group` is all that is hashed, so keys of one group
/// collide fully and probe chains, wrap-around and backward-shift deletion are exercised.
struct Colliding: Hashable, Sendable {
    var id: Int
    var group: Int
    static func == (a: Colliding, b: Colliding) -> Bool { a.id == b.id }
    func hash(into hasher: inout Hasher) { hasher.combine(group) }
}

/// The item table of `WorkQueue`, against a reference model (a dictionary of states and an
/// array FIFO), through the operations the queue makes: add, hand out, mark dirty, finish.
@Suite("Work queue item table")
struct ItemTableTests {
    typealias Table = WorkQueue<Colliding>.ItemTable
    typealias State = WorkQueue<Colliding>.ItemState

    /// Every invariant of the table, and its agreement with the model.
    private func check(_ t: Table, states: [Colliding: State], fifo: [Colliding], _ step: Int) {
        #expect(t.count == states.count, "step \(step): count")
        #expect(t.queuedCount == fifo.count, "step \(step): queued count")
        var walked: [Colliding] = []
        var s = t.head
        while s >= 0 {
            walked.append(t.slots[Int(s)].key!)
            if walked.count > t.slots.count { break }
            s = t.slots[Int(s)].next
        }
        #expect(walked == fifo, "step \(step): FIFO order")
        for (key, state) in states {
            guard let (_, slot) = t.find(key, hash: Table.hash(key)) else {
                Issue.record("step \(step): \(key) not found")
                continue
            }
            #expect(t.slots[slot].state == state, "step \(step): state of \(key)")
        }
        // Each live slot is in the index once, and every bucket points at a live slot.
        let live = t.buckets.filter { $0 != 0 }
        #expect(live.count == states.count, "step \(step): index entries")
        #expect(Set(live.map { Int(UInt32(truncatingIfNeeded: $0)) - 1 }).count == live.count, "step \(step): a slot indexed twice")
        #expect(t.buckets.count.nonzeroBitCount == 1 && t.count * 4 <= t.buckets.count * 3, "step \(step): index size")
        var free = 0
        var f = t.freeHead
        while f >= 0 && free <= t.slots.count {
            #expect(t.slots[Int(f)].state == .free && t.slots[Int(f)].key == nil, "step \(step): free chain")
            free += 1
            f = t.slots[Int(f)].next
        }
        #expect(free + t.count == t.slots.count, "step \(step): free chain length")
    }

    /// Random operations on up to `keys` keys in `groups` hash groups, checked after every step.
    private func run(seed: UInt64, keys: Int, groups: Int, steps: Int, checkEvery: Int = 1) {
        var rng = SplitMix(seed: seed)
        var t = Table()
        var states: [Colliding: State] = [:]
        var fifo: [Colliding] = []
        for step in 0..<steps {
            let key = Colliding(id: Int.random(in: 0..<keys, using: &rng), group: 0)
            let k = Colliding(id: key.id, group: key.id % groups)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:  // add
                if let (_, slot) = t.find(k, hash: Table.hash(k)) {
                    if t.slots[slot].state == .processing {
                        t.slots[slot].state = .processingDirty
                        states[k] = .processingDirty
                    }
                } else {
                    t.enqueue(t.insert(k, hash: Table.hash(k), state: .queued, addedAt: Int64(step)))
                    states[k] = .queued
                    fifo.append(k)
                }
            case 1:  // hand out the first waiting item
                if let slot = t.dequeue() {
                    let got = t.slots[slot].key!
                    #expect(got == fifo.removeFirst(), "step \(step): handed out out of order")
                    t.slots[slot].state = .processing
                    states[got] = .processing
                }
            default:  // done for an item being processed, if any
                guard let item = states.first(where: { $0.value == .processing || $0.value == .processingDirty })?.key,
                      let (bucket, slot) = t.find(item, hash: Table.hash(item)) else { continue }
                if t.slots[slot].state == .processingDirty {
                    t.slots[slot].state = .queued
                    t.enqueue(slot)
                    states[item] = .queued
                    fifo.append(item)
                } else {
                    t.remove(bucket: bucket, slot: slot)
                    states[item] = nil
                }
            }
            if step % checkEvery == 0 { check(t, states: states, fifo: fifo, step) }
        }
        check(t, states: states, fifo: fifo, steps)
    }

    @Test func agreesWithTheModelWithWellSpreadHashes() {
        run(seed: 1, keys: 200, groups: 200, steps: 5_000)
    }

    @Test func agreesWithTheModelWhenEveryKeyCollides() {
        run(seed: 2, keys: 40, groups: 1, steps: 3_000)
    }

    @Test func agreesWithTheModelWithClustersOfCollisions() {
        run(seed: 3, keys: 300, groups: 7, steps: 6_000, checkEvery: 7)
    }

    /// Growing past the compaction floor and draining again: the table compacts (waiting items
    /// first, in order) and gives its memory back when it empties.
    @Test func compactsAndShrinksAfterABurst() {
        var t = Table()
        let n = 5_000
        for i in 0..<n {
            let k = Colliding(id: i, group: i)
            t.enqueue(t.insert(k, hash: Table.hash(k), state: .queued, addedAt: 0))
        }
        #expect(t.slots.count == n && t.buckets.count >= n * 4 / 3)
        // Hand out and finish all but the last 100: the table compacts on the way down.
        for _ in 0..<(n - 100) {
            let slot = t.dequeue()!
            let k = t.slots[slot].key!
            t.slots[slot].state = .processing
            let (bucket, found) = t.find(k, hash: Table.hash(k))!
            #expect(found == slot)
            t.remove(bucket: bucket, slot: slot)
        }
        #expect(t.count == 100 && t.queuedCount == 100)
        // Compacted when fewer than 1 in 8 slots were live, to the live ones (625 < 1,024: no more after that).
        #expect(t.slots.count < n / 8, "compacted: \(t.slots.count) slots for 100 items")
        #expect(t.buckets.count == Table.bucketCount(for: t.slots.count), "index shrunk: \(t.buckets.count) buckets")
        #expect(t.buckets.count < n, "index shrunk: \(t.buckets.count) buckets")
        var order: [Int] = []
        while let slot = t.dequeue() {
            order.append(t.slots[slot].key!.id)
            t.slots[slot].state = .processing
        }
        #expect(order == Array((n - 100)..<n), "waiting items keep their order through compaction")
        for id in order {
            let k = Colliding(id: id, group: id)
            let (bucket, slot) = t.find(k, hash: Table.hash(k))!
            t.remove(bucket: bucket, slot: slot)
        }
        #expect(t.count == 0 && t.slots.isEmpty && t.freeHead == -1)
    }

    /// The queue over the table, past the compaction floor: every item comes out once, in order.
    @Test func aLongQueueHandsEveryItemOutInOrder() async {
        let q = WorkQueue<Int>()
        for i in 0..<20_000 { q.add(i) }
        q.add(5)  // already waiting: no-op
        #expect(q.len == 20_000)
        for i in 0..<20_000 {
            let got = await q.get()
            #expect(got == i)
            if got != i { break }
            q.done(i)
        }
        #expect(q.len == 0 && q.processingCount == 0)
        q.add(7)
        #expect(await q.get() == 7)
    }
}
