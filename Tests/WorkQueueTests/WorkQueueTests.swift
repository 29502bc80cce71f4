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
