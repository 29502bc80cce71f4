import Metrics
import Synchronization

/// The names of the API client's metrics (documented in docs/metrics.md).
public enum APIClientMetricNames {
    /// Counter by `verb` and `code`: every attempt sent to the API server, retries included.
    /// `verb` is the HTTP method, or `WATCH` for a watch; `code` the HTTP status, or `error`
    /// when no answer came (connection failure, timeout).
    public static let requests = "plugboard_api_requests_total"
    /// Histogram by `verb`: time to the response's head (for a watch: until it is open).
    public static let duration = "plugboard_api_request_duration_seconds"
}

/// Handles for the API client's metrics. The label values are bounded (a handful
/// of verbs, the HTTP status codes), so counters are made on first use and kept.
final class APIClientMetrics: Sendable {
    struct Series: Hashable {
        var verb: String
        var code: String
    }

    private let counters = Mutex<[Series: Counter]>([:])
    private let timers: [String: Metrics.Timer]

    static let verbs = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "WATCH"]

    init() {
        timers = Dictionary(uniqueKeysWithValues: Self.verbs.map {
            ($0, Metrics.Timer(label: APIClientMetricNames.duration, dimensions: [("verb", $0)], preferredDisplayUnit: .seconds))
        })
    }

    static func verb(of request: APIRequest) -> String {
        if request.query.contains(where: { $0.0 == "watch" && ($0.1 == "true" || $0.1 == "1") }) { return "WATCH" }
        return request.method.rawValue
    }

    func record(verb: String, code: String, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        timers[verb]?.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        let series = Series(verb: verb, code: code)
        let counter = counters.withLock { counters in
            if let counter = counters[series] { return counter }
            let counter = Counter(label: APIClientMetricNames.requests, dimensions: [("verb", verb), ("code", code)])
            counters[series] = counter
            return counter
        }
        counter.increment()
    }
}
