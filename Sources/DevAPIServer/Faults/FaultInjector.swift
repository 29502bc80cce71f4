import KubeCore
import Synchronization

/// Failures a test can ask the dev server for: the next N requests matching a
/// verb and resource fail with a status (429 with Retry-After, 500, 503, …),
/// and every request can be slowed down. Watches are cut and history compacted
/// through the store.
public final class FaultInjector: Sendable {
    public struct Rule: Sendable, Equatable {
        /// get, list, watch, create, update, patch, delete, deletecollection; nil for any.
        public var verb: String?
        /// Plural resource name (`configmaps`); nil for any.
        public var resource: String?
        public var code: Int
        public var retryAfterSeconds: Int?
        public var remaining: Int

        public init(verb: String? = nil, resource: String? = nil, code: Int, retryAfterSeconds: Int? = nil, count: Int = 1) {
            self.verb = verb
            self.resource = resource
            self.code = code
            self.retryAfterSeconds = retryAfterSeconds
            self.remaining = count
        }
    }

    struct State {
        var rules: [Rule] = []
        var latency: Duration = .zero
    }

    private let state = Mutex(State())

    public init() {}

    public func add(_ rule: Rule) { state.withLock { $0.rules.append(rule) } }

    public func setLatency(_ latency: Duration) { state.withLock { $0.latency = latency } }

    public func reset() { state.withLock { $0 = State() } }

    public var latency: Duration { state.withLock { $0.latency } }

    /// The error the request must get, using up one count of the first matching rule.
    func failure(verb: String, resource: String) -> APIError? {
        state.withLock { state -> APIError? in
            guard let index = state.rules.firstIndex(where: { ($0.verb == nil || $0.verb == verb) && ($0.resource == nil || $0.resource == resource) }) else {
                return nil
            }
            let rule = state.rules[index]
            state.rules[index].remaining -= 1
            if state.rules[index].remaining <= 0 { state.rules.remove(at: index) }
            return Self.error(code: rule.code, retryAfterSeconds: rule.retryAfterSeconds)
        }
    }

    /// The Status kube-apiserver sends for each injected code.
    static func error(code: Int, retryAfterSeconds: Int?) -> APIError {
        switch code {
        case 429:
            return APIError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.", retryAfterSeconds: retryAfterSeconds ?? 1)
        case 500:
            return APIError(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault", retryAfterSeconds: retryAfterSeconds)
        case 503:
            return APIError(code: 503, reason: "ServiceUnavailable", message: "The server is currently unable to handle the request", retryAfterSeconds: retryAfterSeconds)
        case 504:
            return APIError(code: 504, reason: "Timeout", message: "The server was unable to return a response in the time allotted, but may still be processing the request", retryAfterSeconds: retryAfterSeconds)
        default:
            return APIError(code: code, reason: "", message: "injected fault with status \(code)", retryAfterSeconds: retryAfterSeconds)
        }
    }

    /// A rule from the control API's JSON body: `{"verb","resource","code","retryAfterSeconds","count"}`.
    static func rule(from json: JSON) throws(APIError) -> Rule {
        guard let code = json["code"]?.intValue, (400...599).contains(code) else {
            throw APIError.badRequest("fault rule: \"code\" must be an HTTP error status from 400 to 599")
        }
        let known: Set<String> = ["verb", "resource", "code", "retryAfterSeconds", "count"]
        if let unknown = json.objectValue?.keys.first(where: { !known.contains($0) }) {
            throw APIError.badRequest("fault rule: unknown field \"\(unknown)\"")
        }
        let count = Int(json["count"]?.intValue ?? 1)
        guard count >= 1 else { throw APIError.badRequest("fault rule: \"count\" must be at least 1") }
        return Rule(verb: json["verb"]?.stringValue, resource: json["resource"]?.stringValue, code: Int(code),
                    retryAfterSeconds: json["retryAfterSeconds"]?.intValue.map(Int.init), count: count)
    }
}
