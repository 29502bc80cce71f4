import Foundation
import Synchronization
import Testing
@testable import WorkQueue

/// The queue's own lock (`SpinLocked`, over `plugboard_lock`) and the adds pushed while it is
/// taken, on real threads.
@Suite("Queue lock and pushed adds")
struct QueueLockTests {
    /// Runs `body(i)` on `count` threads at once and waits for all of them.
    func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread.detachNewThread {
                body(i)
                group.leave()
            }
        }
        group.wait()
    }

    /// Many threads increment a plain counter under the lock: no increment is lost. The body
    /// is long enough (a read, some work, a write) that two holders at once would lose some.
    @Test func excludesUnderContention() {
        let locked = SpinLocked(0)
        defer { locked.deallocate() }
        let threads = 4, rounds = 50_000
        onThreads(threads) { _ in
            for _ in 0..<rounds {
                locked.withLock { value in
                    let seen = value
                    var spin = 0
                    for i in 0..<8 { spin &+= i }
                    value = seen + 1 + (spin & 0)
                }
            }
        }
        #expect(locked.withLock { $0 } == threads * rounds)
    }

    /// A holder that keeps the lock far longer than the waiters spin (20 ms against tens of
    /// microseconds) makes them park; each release wakes one, and every waiter gets in, in turn.
    @Test func waitersThatParkAreWoken() {
        let locked = SpinLocked<[Int]>([])
        defer { locked.deallocate() }
        let holding = Atomic<Bool>(false)
        onThreads(5) { i in
            if i == 0 {
                locked.withLock { order in
                    holding.store(true, ordering: .releasing)
                    Thread.sleep(forTimeInterval: 0.05)
                    order.append(0)
                }
            } else {
                while !holding.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.001) }
                locked.withLock { order in
                    Thread.sleep(forTimeInterval: 0.02)  // long enough that the others park again
                    order.append(i)
                }
            }
        }
        let order = locked.withLock { $0 }
        #expect(order.first == 0)
        #expect(order.sorted() == [0, 1, 2, 3, 4])
    }

    @Test func tryingATakenLockFailsAtOnce() {
        let locked = SpinLocked(1)
        defer { locked.deallocate() }
        locked.withLock { _ in
            let other = Atomic<Int>(-1)
            onThreads(1) { _ in other.store(locked.withLockIfAvailable { $0 } ?? 0, ordering: .relaxed) }
            #expect(other.load(ordering: .relaxed) == 0)
        }
        #expect(locked.withLockIfAvailable { $0 } == 1)
    }

    /// Adds made while another thread holds the queue's lock do not wait (up to the bound on
    /// pending adds): they are pushed, and the next critical section applies them in the order
    /// they were made, deduplicated. Over many rounds the nodes come back recycled, and the
    /// recycled ones never pass their cap; nothing is lost.
    @Test func addsPushedWhileTheLockIsTakenArriveInOrder() async {
        let q = WorkQueue<Int>()
        let most = Int(WorkQueue<Int>.maxPending) - 2
        for (round, burst) in [3, 100, 100, most, most, 7, most, 100].enumerated() {
            let base = round * 100_000
            let keys = (0..<burst).map { base + $0 }
            q.state.withLock { _ in
                // The lock is held here: every add below is pushed, not applied.
                onThreads(1) { _ in
                    for key in keys { q.add(key) }
                    q.add(base)  // a duplicate of a pending add: applied as a no-op
                }
                let pending = q.pendingWord.word.load(ordering: .acquiring)
                #expect(pending > WorkQueue<Int>.shutDownTag, "round \(round): the adds were pushed")
            }
            #expect(q.len == burst, "round \(round)")
            var got: [Int] = []
            for _ in 0..<burst {
                guard let key = await q.get() else { break }
                got.append(key)
                q.done(key)
            }
            #expect(got == keys, "round \(round): in the order added")
            let recycled = q.pendingWord.recycled.load(ordering: .acquiring) >> WorkQueue<Int>.countShift
            #expect(recycled <= WorkQueue<Int>.maxRecycled, "round \(round)")
        }
        q.shutDown()
        #expect(await q.get() == nil)
    }

    /// A producer that outruns the critical sections waits once `maxPending` adds are pushed
    /// and not applied: while another thread holds the lock, its pushes stop at the bound; once
    /// the lock is free it goes on, and every add arrives, in order.
    @Test func pushedAddsStopAtTheBoundUntilTheLockIsFree() async {
        let q = WorkQueue<Int>()
        let bound = Int(WorkQueue<Int>.maxPending)
        let total = bound * 3
        let made = Atomic<Int>(0)
        let producer = Thread {
            for key in 0..<total {
                q.add(key)
                made.add(1, ordering: .relaxed)
            }
        }
        q.state.withLock { _ in
            producer.start()
            // Held for a while: the producer pushes up to the bound, then waits for the lock.
            let deadline = ContinuousClock.now + .milliseconds(300)
            while ContinuousClock.now < deadline { usleep(1_000) }
            // The add that reached the bound waits inside `add`: it is pushed, not yet returned.
            #expect(made.load(ordering: .relaxed) == bound - 1, "adds made while the lock was held")
            let pushed = Int((q.pendingWord.word.load(ordering: .acquiring) >> WorkQueue<Int>.countShift) & WorkQueue<Int>.countMask)
            #expect(pushed == bound)
        }
        await waitUntil { made.load(ordering: .relaxed) == total }
        var got: [Int] = []
        while got.count < total, let key = await q.get() {
            got.append(key)
            q.done(key)
        }
        #expect(got == Array(0..<total))
        q.shutDown()
    }

    /// A getter asleep while adds are pushed is still woken by them: with a woken getter on its
    /// way the adds are applied by its look; with none, adds take the lock and wake one.
    @Test func pushedAddsReachSleepingGetters() async {
        let q = WorkQueue<Int>()
        for round in 0..<200 {
            let getters = (0..<3).map { _ in Task { await q.get() } }
            await waitUntil { q.waitingGetterCount == 3 }
            onThreads(2) { t in
                for k in 0..<3 { q.add(round * 10 + t * 3 + k) }
            }
            var got: [Int] = []
            for getter in getters {
                if let key = await getter.value { got.append(key) }
            }
            #expect(got.count == 3, "round \(round): every getter got an item")
            for key in got { q.done(key) }
            // Drain what is left of the round's 6 keys.
            while q.len > 0, let key = await q.get() { q.done(key) }
        }
        q.shutDown()
    }
}
