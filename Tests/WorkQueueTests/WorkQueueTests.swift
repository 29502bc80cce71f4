import Testing
import WorkQueue

@Suite("WorkQueue")
struct WorkQueueTests {
    @Test func addingAWaitingItemIsANoOp() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        q.add("b")
        q.add("a")
        #expect(q.len == 2)
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
        #expect(q.len == 0)
        #expect(q.processingCount == 2)
    }

    @Test func itemsComeOutInFirstAddedOrder() async {
        let q = WorkQueue<Int>(name: nil)
        for i in [5, 3, 9, 3, 1, 5] { q.add(i) }
        var got: [Int] = []
        for _ in 0..<4 { got.append(await q.get()!) }
        #expect(got == [5, 3, 9, 1])
    }

    @Test func addingAnItemBeingProcessedRequeuesItOnceAfterDone() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        #expect(await q.get() == "a")
        q.add("a")
        q.add("a")
        #expect(q.len == 0, "an item being processed is not handed out again")
        q.add("b")
        #expect(await q.get() == "b", "a dirty item does not block others")
        q.done("a")
        #expect(q.len == 1)
        #expect(await q.get() == "a")
        q.done("a")
        q.done("b")
        #expect(q.len == 0)
        #expect(q.processingCount == 0)
    }

    @Test func doneForAnItemNotBeingProcessedDoesNothing() async {
        let q = WorkQueue<String>(name: nil)
        q.done("x")
        q.add("a")
        q.done("a")  // waiting, not processing
        #expect(q.len == 1)
        #expect(await q.get() == "a")
        #expect(q.len == 0)
    }

    @Test func aSuspendedGetterIsWokenByAdd() async {
        let q = WorkQueue<String>(name: nil)
        let getter = Task { await q.get() }
        await waitUntil { q.waitingGetterCount == 1 }
        q.add("a")
        #expect(await withDeadline { await getter.value } == "a")
        #expect(q.processingCount == 1)
        #expect(q.len == 0)
    }

    @Test func aSuspendedGetterIsWokenByDoneOfADirtyItem() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        #expect(await q.get() == "a")
        q.add("a")
        let getter = Task { await q.get() }
        await waitUntil { q.waitingGetterCount == 1 }
        q.done("a")
        #expect(await withDeadline { await getter.value } == "a")
        #expect(q.len == 0, "handed over, not also queued")
        #expect(q.processingCount == 1)
    }

    /// While a woken getter has yet to look, adds need not wake anyone (they may skip the lock):
    /// the woken getter takes one and wakes the next for what it leaves behind.
    @Test func addsAfterAWakeReachEverySleepingGetter() async {
        let q = WorkQueue<Int>(name: nil)
        let getters = (0..<3).map { _ in Task { await q.get() } }
        await waitUntil { q.waitingGetterCount == 3 }
        for i in 0..<3 { q.add(i) }  // the first wakes one getter; the others find a wake pending
        var got: [Int] = []
        for getter in getters {
            let result: Int?? = await withDeadline { await getter.value }
            if let item = result ?? nil { got.append(item) }
        }
        #expect(got.sorted() == [0, 1, 2])
        #expect(q.processingCount == 3)
        #expect(q.len == 0)
    }

    /// Once every woken getter has looked and gone back to sleep, an add must wake one again.
    @Test func gettersThatSleepAgainAfterAWakeAreWokenByTheNextAdd() async {
        let q = WorkQueue<Int>(name: nil)
        let seen = Box<[Int]>([])
        let workers = (0..<2).map { _ in
            Task {
                while let key = await q.get() {
                    seen.update { $0.append(key) }
                    q.done(key)
                }
            }
        }
        await waitUntil { q.waitingGetterCount == 2 }
        for round in 0..<5 {
            q.add(round)
            await waitUntil { seen.get.count == round + 1 && q.waitingGetterCount == 2 }
        }
        #expect(seen.get == [0, 1, 2, 3, 4])
        #expect(q.len == 0)
        #expect(q.processingCount == 0)
        q.shutDown()
        for worker in workers {
            let finished: Void? = await withDeadline { await worker.value }
            #expect(finished != nil)
        }
    }

    @Test func shutDownWakesEveryGetter() async {
        let q = WorkQueue<Int>(name: nil)
        let getters = (0..<3).map { _ in Task { await q.get() } }
        await waitUntil { q.waitingGetterCount == 3 }
        q.shutDown()
        for getter in getters {
            let result = await withDeadline { await getter.value }
            #expect(result == .some(nil))
        }
        #expect(q.isShuttingDown)
    }

    @Test func shutDownLetsGettersDrainWhatIsQueuedAndIgnoresAdds() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        q.add("b")
        q.shutDown()
        q.add("c")
        #expect(q.len == 2)
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
        #expect(await q.get() == nil)
        #expect(await q.get() == nil)
    }

    @Test func shutDownWithDrainWaitsForProcessingToBeDone() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        q.add("b")
        #expect(await q.get() == "a")
        let finished = Box(false)
        let drain = Task {
            await q.shutDownWithDrain()
            finished.set(true)
        }
        await waitUntil { q.isShuttingDown }
        // "b" is still queued and may be got while draining; then it must be done too.
        #expect(await q.get() == "b")
        q.done("a")
        for _ in 0..<100 { await Task.yield() }
        #expect(!finished.get, "drain returned while b was still processing")
        q.done("b")
        _ = await withDeadline { await drain.value }
        #expect(finished.get)
        #expect(await q.get() == nil)
    }

    @Test func shutDownWithDrainReturnsAtOnceWhenNothingIsProcessing() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        _ = await withDeadline { await q.shutDownWithDrain() }
        #expect(await q.get() == "a", "queued items can still be drained")
    }

    @Test func shutDownEndsAPendingDrain() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        #expect(await q.get() == "a")
        let drain = Task { await q.shutDownWithDrain() }
        await waitUntil { q.isShuttingDown }
        q.shutDown()
        _ = await withDeadline { await drain.value }
        #expect(q.processingCount == 1)
    }

    @Test func aDirtyItemDoneDuringDrainIsStillQueued() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        #expect(await q.get() == "a")
        q.add("a")
        let drain = Task { await q.shutDownWithDrain() }
        await waitUntil { q.isShuttingDown }
        q.done("a")
        _ = await withDeadline { await drain.value }
        #expect(q.len == 1)
        #expect(await q.get() == "a")
    }

    @Test func aCancelledGetterReturnsNilAndTakesNothing() async {
        let q = WorkQueue<String>(name: nil)
        let getter = Task { await q.get() }
        await waitUntil { q.waitingGetterCount == 1 }
        getter.cancel()
        let result = await withDeadline { await getter.value }
        #expect(result == .some(nil))
        #expect(q.waitingGetterCount == 0)
        q.add("a")
        #expect(q.len == 1)
        #expect(q.processingCount == 0)
    }
}
