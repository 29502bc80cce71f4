import Metrics
import Synchronization
import Testing
import WorkQueue

/// Runs `body`, giving up after `seconds` of real time: the test then fails and nil is returned.
///
/// The body runs in its own task, which is cancelled at the deadline but not waited for: a body
/// stuck on something that ignores cancellation (such as another task's value) fails the test
/// instead of hanging it.
func withDeadline<T: Sendable>(
    _ seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () async -> T
) async -> T? {
    let pending = Box<CheckedContinuation<T?, Never>?>(nil)
    let tasks = Box<(work: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        pending.set(continuation)
        let work = Task {
            let value = await body()
            // Whichever of the body and the timer takes the continuation first resumes it.
            if let continuation = pending.update({ $0.take() }) {
                tasks.get.timer?.cancel()
                continuation.resume(returning: value)
            }
        }
        let timer = Task {
            try? await Task.sleep(for: .seconds(seconds))
            if Task.isCancelled { return }
            if let continuation = pending.update({ $0.take() }) {
                Issue.record("deadline of \(seconds) s passed", sourceLocation: sourceLocation)
                tasks.get.work?.cancel()
                continuation.resume(returning: nil)
            }
        }
        tasks.set((work, timer))
    }
}

/// Waits (yielding, polling every millisecond) until `condition` holds; records an issue after `seconds`.
func waitUntil(
    _ seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("condition not met within \(seconds) s", sourceLocation: sourceLocation)
            return
        }
        await Task.yield()
        try? await Task.sleep(for: .milliseconds(1))
    }
}

/// A value several tasks can set and read.
final class Box<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    var get: Value { value.withLock { $0 } }
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    func update<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}

func ms(_ n: Int) -> Duration { .milliseconds(n) }
func at(_ d: Duration) -> WorkQueueInstant { WorkQueueInstant(offset: d) }

// MARK: - A metrics factory that keeps what it is told, for assertions.

final class TestMetricsFactory: MetricsFactory {
    final class CounterBox: CounterHandler {
        let value = Mutex<Int64>(0)
        func increment(by amount: Int64) { value.withLock { $0 += amount } }
        func reset() { value.withLock { $0 = 0 } }
    }

    final class MeterBox: MeterHandler {
        let value = Mutex<Double>(0)
        func set(_ v: Int64) { value.withLock { $0 = Double(v) } }
        func set(_ v: Double) { value.withLock { $0 = v } }
        func increment(by amount: Double) { value.withLock { $0 += amount } }
        func decrement(by amount: Double) { value.withLock { $0 -= amount } }
    }

    final class RecorderBox: RecorderHandler {
        let values = Mutex<[Double]>([])
        func record(_ v: Int64) { values.withLock { $0.append(Double(v)) } }
        func record(_ v: Double) { values.withLock { $0.append(v) } }
    }

    final class TimerBox: TimerHandler {
        let values = Mutex<[Int64]>([])
        func recordNanoseconds(_ duration: Int64) { values.withLock { $0.append(duration) } }
    }

    private struct Store {
        var counters: [String: CounterBox] = [:]
        var meters: [String: MeterBox] = [:]
        var recorders: [String: RecorderBox] = [:]
        var timers: [String: TimerBox] = [:]
        var made = 0
    }

    private let store = Mutex(Store())

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
    }

    /// How many metrics were created.
    var madeCount: Int { store.withLock { $0.made } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        store.withLock { s in
            s.made += 1
            let box = s.counters[Self.key(label, dimensions)] ?? CounterBox()
            s.counters[Self.key(label, dimensions)] = box
            return box
        }
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        store.withLock { s in
            s.made += 1
            let box = s.meters[Self.key(label, dimensions)] ?? MeterBox()
            s.meters[Self.key(label, dimensions)] = box
            return box
        }
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        store.withLock { s in
            s.made += 1
            let box = s.recorders[Self.key(label, dimensions)] ?? RecorderBox()
            s.recorders[Self.key(label, dimensions)] = box
            return box
        }
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        store.withLock { s in
            s.made += 1
            let box = s.timers[Self.key(label, dimensions)] ?? TimerBox()
            s.timers[Self.key(label, dimensions)] = box
            return box
        }
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    func counter(_ label: String, queue: String) -> Int64? {
        store.withLock { $0.counters[Self.key(label, [("name", queue)])] }?.value.withLock { $0 }
    }

    func meter(_ label: String, queue: String) -> Double? {
        store.withLock { $0.meters[Self.key(label, [("name", queue)])] }?.value.withLock { $0 }
    }

    /// Durations recorded by a timer, in seconds.
    func timed(_ label: String, queue: String) -> [Double]? {
        store.withLock { $0.timers[Self.key(label, [("name", queue)])] }?.values.withLock { $0.map { Double($0) / 1e9 } }
    }

    /// Values recorded by a recorder or gauge (a gauge's last value is the last element).
    func recorded(_ label: String, queue: String) -> [Double]? {
        store.withLock { $0.recorders[Self.key(label, [("name", queue)])] }?.values.withLock { $0 }
    }
}
