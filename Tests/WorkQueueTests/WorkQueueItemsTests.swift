import Testing
import WorkQueue

@Suite("WorkQueue doneAndGet and items()")
struct WorkQueueItemsTests {
    @Test func doneAndGetEndsThePreviousItemAndTakesTheNext() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        q.add("b")
        #expect(await q.get() == "a")
        #expect(await q.doneAndGet("a") == "b")
        #expect(q.processingCount == 1, "a is done, b is being processed")
        #expect(q.len == 0)
        q.add("a")
        #expect(q.len == 1, "a was done, so adding it queues it")
        #expect(await q.doneAndGet("b") == "a")
        q.done("a")
        #expect(q.processingCount == 0)
    }

    @Test func anItemAddedWhileProcessedIsQueuedAgainBehindTheOthers() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        #expect(await q.get() == "a")
        q.add("a")  // dirty while processing
        q.add("a")
        q.add("b")
        #expect(q.len == 1)
        #expect(await q.doneAndGet("a") == "b", "a goes to the back, behind b")
        #expect(q.len == 1)
        #expect(await q.doneAndGet("b") == "a")
        #expect(q.len == 0)
        q.done("a")
        #expect(q.processingCount == 0)
    }

    @Test func aDirtyItemIsHandedBackToTheSameWorkerWhenNothingElseWaits() async {
        let q = WorkQueue<Int>(name: nil)
        q.add(1)
        #expect(await q.get() == 1)
        q.add(1)
        #expect(await q.doneAndGet(1) == 1)
        #expect(q.processingCount == 1)
        #expect(q.len == 0)
        q.done(1)
        #expect(q.processingCount == 0)
    }

    @Test func doneAndGetOfAnItemNotBeingProcessedIsAGet() async {
        let q = WorkQueue<Int>(name: nil)
        q.add(7)
        #expect(await q.doneAndGet(42) == 7)
        #expect(q.processingCount == 1)
    }

    @Test func doneAndGetSuspendsWhenEmptyAndIsWokenByAdd() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        #expect(await q.get() == "a")
        let worker = Task { await q.doneAndGet("a") }
        await waitUntil { q.waitingGetterCount == 1 }
        #expect(q.processingCount == 0, "a was done before the worker slept")
        q.add("c")
        #expect(await withDeadline { await worker.value } == "c")
        #expect(q.processingCount == 1)
    }

    @Test func doneAndGetReturnsNilAfterShutDownAndReleasesADrain() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        q.add("b")
        #expect(await q.get() == "a")
        let drained = Box(false)
        let drain = Task {
            await q.shutDownWithDrain()
            drained.set(true)
        }
        await waitUntil { q.isShuttingDown }
        q.add("x")  // ignored
        #expect(await q.doneAndGet("a") == "b", "queued items are still handed out")
        #expect(!drained.get, "b is being processed")
        #expect(await q.doneAndGet("b") == nil)
        #expect(await withDeadline { await drain.value } != nil)
        #expect(drained.get)
        #expect(q.processingCount == 0)
    }

    @Test func itemsYieldsEveryItemAndEndsEachOne() async {
        let q = WorkQueue<Int>(name: nil)
        for i in [3, 1, 3, 2] { q.add(i) }
        q.shutDown()
        let got = await withDeadline { () -> [Int] in
            var got: [Int] = []
            for await key in q.items() {
                #expect(q.processingCount == 1, "only the current item is being processed")
                got.append(key)
            }
            return got
        }
        #expect(got == [3, 1, 2])
        #expect(q.processingCount == 0, "the last item is done when the sequence ends")
        #expect(q.len == 0)
    }

    @Test func itemsRequeuesAnItemAddedDuringItsPass() async {
        let q = WorkQueue<String>(name: nil)
        q.add("a")
        let seen = await withDeadline { () -> [String] in
            var seen: [String] = []
            for await key in q.items() {
                seen.append(key)
                if seen.count == 1 { q.add("a") }  // dirty: comes back once
                if seen.count == 2 { q.shutDown() }
            }
            return seen
        }
        #expect(seen == ["a", "a"])
        #expect(q.processingCount == 0)
    }

    @Test func shutDownWhileIteratingEndsTheLoopAfterTheQueuedItems() async {
        let q = WorkQueue<Int>(name: nil)
        let seen = Box<[Int]>([])
        let worker = Task {
            for await key in q.items() { seen.update { $0.append(key) } }
        }
        await waitUntil { q.waitingGetterCount == 1 }
        q.add(1)
        await waitUntil { seen.get == [1] && q.waitingGetterCount == 1 }
        #expect(q.processingCount == 0, "1 was done when the worker asked for more")
        q.add(2)
        q.add(3)
        q.shutDown()
        #expect(await withDeadline { await worker.value } != nil)
        #expect(seen.get == [1, 2, 3])
        #expect(q.processingCount == 0)
    }

    @Test func cancellingAWaitingIteratorEndsIt() async {
        let q = WorkQueue<Int>(name: nil)
        q.add(1)
        let worker = Task { () -> [Int] in
            var seen: [Int] = []
            for await key in q.items() { seen.append(key) }
            return seen
        }
        await waitUntil { q.waitingGetterCount == 1 }
        worker.cancel()
        #expect(await withDeadline { await worker.value } == [1])
        #expect(q.processingCount == 0)
        #expect(q.waitingGetterCount == 0)
    }

    @Test func anIteratorThatEndedStaysEnded() async {
        let q = WorkQueue<Int>(name: nil)
        q.shutDown()
        var iterator = q.items().makeAsyncIterator()
        #expect(await iterator.next() == nil)
        #expect(await iterator.next() == nil)
    }

    // MARK: Adds without the lock

    @Test func manyAddsWithoutGettersKeepOrderAndDedupAndCount() async {
        let factory = TestMetricsFactory()
        let q = WorkQueue<Int>(name: "many", metricsFactory: factory)
        for i in 0..<1_000 { q.add(i) }
        for i in 0..<1_000 { q.add(i) }  // all waiting: no-ops
        q.add(contentsOf: [1_000, 5, 1_001])
        #expect(q.len == 1_002)
        #expect(factory.counter(WorkQueueMetricNames.adds, queue: "many") == 1_002)
        #expect(factory.meter(WorkQueueMetricNames.depth, queue: "many") == 1_002)
        var got: [Int] = []
        for _ in 0..<1_002 { got.append(await q.get()!) }
        #expect(got == Array(0..<1_000) + [1_000, 1_001])
    }

    @Test func manyAddsWithoutMetricsAreAllSeenByLen() {
        let q = WorkQueue<Int>(name: nil)
        for i in 0..<1_000 { q.add(i % 300) }
        #expect(q.len == 300)
        q.shutDown()
        q.add(5_000)
        #expect(q.len == 300, "adds after shutdown are ignored")
    }
}

@Suite("Stress with items()")
struct ItemsStressTests {
    @Test(arguments: [(false, 200), (true, 200), (false, 6), (true, 6)])
    func noKeyIsProcessedTwiceAtOnceAndNoAddIsLost(withMetrics: Bool, keys: Int) async {
        let stress = StressRun(keys: keys, withMetrics: withMetrics)
        let q = stress.q
        let finished: Void? = await withDeadline(60) {
            await stress.run(seed: 11, settle: 50, worker: {
                for await key in q.items() { await stress.process(key) }
            }, finish: { await q.shutDownWithDrain() })
        }
        #expect(finished != nil)
        stress.check()
        #expect(q.processingCount == 0)
    }
}
