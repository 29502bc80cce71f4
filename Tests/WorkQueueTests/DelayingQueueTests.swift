import Testing
import WorkQueue

@Suite("DelayingQueue")
struct DelayingQueueTests {
    @Test func aNonPositiveDelayAddsAtOnce() {
        let q = DelayingQueue<String>(clock: ManualWorkQueueClock())
        q.add("a", after: .zero)
        q.add("b", after: ms(-5))
        #expect(q.len == 2)
        #expect(q.waitingCount == 0)
    }

    @Test func anItemIsAddedExactlyWhenItsDelayHasPassed() async {
        let clock = ManualWorkQueueClock()
        let q = DelayingQueue<String>(clock: clock)
        q.add("a", after: ms(100))
        #expect(q.len == 0)
        #expect(q.waitingCount == 1)
        #expect(q.nextReadyTime == at(ms(100)))
        clock.advance(by: ms(99))
        await waitUntil { clock.sleeperCount == 1 }  // the timer is armed and still asleep
        #expect(q.len == 0)
        #expect(q.waitingCount == 1)
        clock.advance(by: ms(1))
        #expect(await withDeadline { await q.get() } == "a")
        #expect(q.waitingCount == 0)
    }

    @Test func aSecondAddOnlyEverMakesAnItemEarlier() async {
        let clock = ManualWorkQueueClock()
        let q = DelayingQueue<String>(clock: clock)
        q.add("a", after: ms(300))
        q.add("a", after: ms(100))
        #expect(q.waitingCount == 1)
        #expect(q.nextReadyTime == at(ms(100)))
        q.add("a", after: ms(500))  // later: ignored
        q.add("a", after: ms(100))  // equal: ignored
        #expect(q.nextReadyTime == at(ms(100)))
        clock.advance(by: ms(100))
        #expect(await withDeadline { await q.get() } == "a")
        #expect(q.waitingCount == 0)
        #expect(q.nextReadyTime == nil, "the superseded entry is gone")
        q.done("a")
        clock.advance(by: ms(1000))
        #expect(q.len == 0)
    }

    @Test func anEarlierItemWakesTheTimerEarly() async {
        let clock = ManualWorkQueueClock()
        let q = DelayingQueue<String>(clock: clock)
        q.add("late", after: ms(300))
        await waitUntil { clock.nextDeadline == at(ms(300)) }
        q.add("early", after: ms(100))
        // The sleeper for 300 ms is replaced by one for 100 ms.
        await waitUntil { clock.nextDeadline == at(ms(100)) && clock.sleeperCount == 1 }
        clock.advance(by: ms(100))
        #expect(await withDeadline { await q.get() } == "early")
        await waitUntil { clock.nextDeadline == at(ms(300)) }
        #expect(q.len == 0)
        clock.advance(by: ms(200))
        #expect(await withDeadline { await q.get() } == "late")
        #expect(q.waitingCount == 0)
    }

    @Test func itemsAreAddedInReadyTimeOrder() async {
        let clock = ManualWorkQueueClock()
        let q = DelayingQueue<String>(clock: clock)
        q.add("a", after: ms(300))
        q.add("b", after: ms(100))
        q.add("c", after: ms(200))
        q.add("d", after: ms(400))
        clock.advance(by: ms(150))
        #expect(await withDeadline { await q.get() } == "b")
        clock.advance(to: at(ms(300)))
        #expect(await withDeadline { await q.get() } == "c")
        #expect(await withDeadline { await q.get() } == "a")
        #expect(q.waitingCount == 1)
        #expect(q.nextReadyTime == at(ms(400)))
        clock.advance(by: ms(100))
        #expect(await withDeadline { await q.get() } == "d")
    }

    @Test func aDueItemThatIsAlreadyQueuedIsDeduplicated() async {
        let clock = ManualWorkQueueClock()
        let q = DelayingQueue<String>(clock: clock)
        q.add("a", after: ms(10))
        q.add("a")
        q.add("b", after: ms(10))
        clock.advance(by: ms(10))
        #expect(await withDeadline { await q.get() } == "a")
        #expect(await withDeadline { await q.get() } == "b")
        #expect(q.len == 0)
    }

    @Test func shutDownDropsWaitingItemsAndIgnoresNewOnes() async {
        let clock = ManualWorkQueueClock()
        let q = DelayingQueue<String>(clock: clock)
        q.add("a", after: ms(10))
        await waitUntil { clock.sleeperCount == 1 }
        q.shutDown()
        #expect(q.waitingCount == 0)
        await waitUntil { clock.sleeperCount == 0 }  // the timer was cancelled
        q.add("b", after: ms(10))
        q.add("c", after: .zero)
        #expect(q.waitingCount == 0)
        clock.advance(by: ms(20))
        #expect(await q.get() == nil)
    }

    @Test func worksOnTheRealClock() async {
        let q = DelayingQueue<String>()
        let start = ContinuousClock.now
        q.add("a", after: ms(20))
        #expect(await withDeadline { await q.get() } == "a")
        #expect(ContinuousClock.now - start >= ms(20))
        q.shutDown()
    }
}
