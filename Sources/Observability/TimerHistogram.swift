import CoreMetrics
import Prometheus
import Synchronization

/// A Prometheus histogram of the durations a swift-metrics `Timer` records, recorded without a
/// lock: a record finds its bucket among the upper bounds (integer nanoseconds) and makes two
/// relaxed atomic additions, one to that bucket's count and one to the sum.
///
/// swift-prometheus's `DurationHistogram` takes a mutex on every record and compares the
/// duration with every bucket (128-bit `Duration` compares), adding one to each bucket at or
/// above it. The work queue records two durations per item inside its own critical section,
/// where that cost is paid by every worker waiting for the lock (the `workqueue` benchmark with
/// metrics; figures in docs/benchmarks.md).
///
/// Counts are kept per bucket and summed into Prometheus's cumulative `le` buckets when written;
/// `_count` is the sum of them all, so a written histogram is always consistent in itself. A
/// scrape that runs beside a record may see the record's count and not yet its duration in
/// `_sum`; the next scrape has both.
final class TimerHistogram: TimerHandler, @unchecked Sendable {
    // @unchecked: `counts` is written only through its atomics, allocated in `init` and freed in `deinit`.
    let name: String
    /// `key="value",…`, escaped, as written between the braces.
    let renderedLabels: String
    /// Upper bounds in nanoseconds, increasing.
    let bounds: [Int64]
    /// One count per bound, then one for the durations above every bound.
    private let counts: UnsafeMutablePointer<Atomic<Int>>
    /// The sum in nanoseconds is `wraps × 2^64 + sum`: 64 bits of nanoseconds overflow after 292
    /// years of recorded time, which a queue 1,000 deep accumulates in about 107 days. Each record
    /// sees from its own addition whether it wrapped (the old and new values of one atomic add), so
    /// the count of wraps is exact.
    private let sum = Atomic<Int64>(0)
    private let wraps = Atomic<Int>(0)

    init(name: String, renderedLabels: String, bounds: [Int64]) {
        self.name = name
        self.renderedLabels = renderedLabels
        self.bounds = bounds
        counts = .allocate(capacity: bounds.count + 1)
        for i in 0...bounds.count { (counts + i).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: bounds.count + 1)
        counts.deallocate()
    }

    func recordNanoseconds(_ duration: Int64) {
        // A handful of buckets, and most durations fall in the first few: a linear walk.
        var i = 0
        while i < bounds.count && bounds[i] < duration { i += 1 }
        counts[i].wrappingAdd(1, ordering: .relaxed)
        let (old, new) = sum.wrappingAdd(duration, ordering: .relaxed)
        if duration >= 0 ? new < old : new > old { wraps.wrappingAdd(duration >= 0 ? 1 : -1, ordering: .relaxed) }
    }

    /// The cumulative counts (one per bound, then the total) and the sum, in nanoseconds.
    func snapshot() -> (cumulative: [Int], sum: Int128) {
        var cumulative: [Int] = []
        cumulative.reserveCapacity(bounds.count + 1)
        var running = 0
        for i in 0...bounds.count {
            running += counts[i].load(ordering: .relaxed)
            cumulative.append(running)
        }
        return (cumulative, Int128(wraps.load(ordering: .relaxed)) << 64 + Int128(sum.load(ordering: .relaxed)))
    }

    /// The histogram's sample lines in the Prometheus text format, as swift-prometheus writes its
    /// duration histograms (the same `le` and `_sum` spelling, in seconds).
    func emit(into buffer: inout [UInt8]) {
        let (cumulative, sum) = snapshot()
        let prefix = renderedLabels.isEmpty ? "" : renderedLabels + ","
        for (bound, count) in zip(bounds, cumulative) {
            buffer += "\(name)_bucket{\(prefix)le=\"\(Duration.nanoseconds(bound).bucketRepresentation)\"} \(count)\n".utf8
        }
        let total = cumulative.last ?? 0
        buffer += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(total)\n".utf8
        let braces = renderedLabels.isEmpty ? "" : "{\(renderedLabels)}"
        // A negative sum (only from negative durations, which a monotonic clock does not give) is
        // written as 0: swift-prometheus's seconds formatting traps on negative values.
        let nanoseconds = max(sum, 0)
        let seconds = Duration(secondsComponent: Int64(clamping: nanoseconds / 1_000_000_000),
                               attosecondsComponent: Int64(nanoseconds % 1_000_000_000) * 1_000_000_000)
        buffer += "\(name)_sum\(braces) \(seconds.bucketRepresentation)\n".utf8
        buffer += "\(name)_count\(braces) \(total)\n".utf8
    }

    /// `key="value",…` with the values escaped as the text format requires.
    static func render(_ labels: [(String, String)]) -> String {
        labels.map { key, value in
            var escaped = ""
            for c in value.unicodeScalars {
                switch c {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.unicodeScalars.append(c)
                }
            }
            return "\(key)=\"\(escaped)\""
        }.joined(separator: ",")
    }
}

/// The timer histograms of a registry, by name and labels: one per label set, as swift-prometheus
/// keeps its own (making one again returns the one there is).
final class TimerHistograms: Sendable {
    private struct Family {
        var help: String
        /// One per label set, in the order they were made (made rarely: found by a walk).
        var members: [TimerHistogram] = []
    }

    private let families = Mutex<[String: Family]>([:])

    func make(name: String, help: String, labels: [(String, String)], bounds: [Int64]) -> TimerHistogram {
        // As swift-prometheus does for its own metrics: invalid characters in names become `_`,
        // line breaks in help text spaces; one label set cannot name a label twice.
        let name = Self.sanitized(name, colons: true)
        let help = String(help.map { $0.isNewline ? " " : $0 })
        let labels = labels.map { (Self.sanitized($0.0, colons: false), $0.1) }
        precondition(Set(labels.map(\.0)).count == labels.count, "timer \(name) names a label twice: \(labels.map(\.0))")
        let rendered = TimerHistogram.render(labels)
        return families.withLock { families in
            var family = families[name] ?? Family(help: help)
            if let existing = family.members.first(where: { $0.renderedLabels == rendered }) { return existing }
            // The first member's buckets are the family's, as in swift-prometheus.
            let histogram = TimerHistogram(name: name, renderedLabels: rendered, bounds: family.members.first?.bounds ?? bounds)
            family.members.append(histogram)
            families[name] = family
            return histogram
        }
    }

    /// A valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) or label name (the same without colons).
    static func sanitized(_ name: String, colons: Bool) -> String {
        var out = ""
        for (i, c) in name.unicodeScalars.enumerated() {
            let letter = ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || (colons && c == ":")
            let digit = ("0"..."9").contains(c)
            out.unicodeScalars.append(letter || (digit && i > 0) ? c : "_")
        }
        return out.isEmpty ? "_" : out
    }

    func remove(_ histogram: TimerHistogram) {
        families.withLock { families in
            guard var family = families[histogram.name] else { return }
            family.members.removeAll { $0 === histogram }
            families[histogram.name] = family.members.isEmpty ? nil : family
        }
    }

    /// Each family's `# HELP` and `# TYPE` lines once, then its histograms; families by name.
    func emit(into buffer: inout [UInt8]) {
        let snapshot = families.withLock { families in
            families.sorted { $0.key < $1.key }.map { name, family in (name, family.help, family.members) }
        }
        for (name, help, members) in snapshot {
            if !help.isEmpty {
                buffer += "# HELP \(name) ".utf8
                for byte in help.utf8 { if byte == UInt8(ascii: "\\") { buffer += #"\\"#.utf8 } else { buffer.append(byte) } }
                buffer.append(UInt8(ascii: "\n"))
            }
            buffer += "# TYPE \(name) histogram\n".utf8
            for histogram in members { histogram.emit(into: &buffer) }
        }
    }
}

/// What `/metrics` serves: swift-prometheus's registry (counters, gauges, value histograms) and
/// the histograms of swift-metrics timers, which `PlugboardMetricsFactory` keeps here to record
/// them without a lock (see `TimerHistogram`).
public final class MetricsRegistry: Sendable {
    public let prometheus: PrometheusCollectorRegistry
    let timers = TimerHistograms()
    /// The kind each name was made as through `PlugboardMetricsFactory`: timers live apart from
    /// swift-prometheus's metrics, so a name made as a timer and as anything else (which would write
    /// two `# TYPE` lines, and Prometheus would reject the scrape) is caught here, as
    /// swift-prometheus catches a name made as two of its own kinds.
    private let kinds = Mutex<[String: String]>([:])

    func claim(_ name: String, as kind: String) {
        kinds.withLock { kinds in
            if let other = kinds[name], other != kind {
                preconditionFailure("metric \(name) made as a \(kind) after a \(other)")
            }
            kinds[name] = kind
        }
    }

    public init(prometheus: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.prometheus = prometheus
    }

    /// Appends the whole exposition in the Prometheus text format.
    public func emit(into buffer: inout [UInt8]) {
        prometheus.emit(into: &buffer)
        timers.emit(into: &buffer)
    }

    public func emitToBuffer() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(prometheus.internalBufferCapacity())
        emit(into: &buffer)
        return buffer
    }

    public func emitToString() -> String { String(decoding: emitToBuffer(), as: UTF8.self) }
}
