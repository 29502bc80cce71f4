import Foundation
import KubeCore

/// An error answered by the API server, built from its `Status` object (or,
/// when the body is not one, from the HTTP status alone). Its description
/// carries the server's message.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    /// One entry of `details.causes`: the same shape KubeCore's validation produces.
    public typealias Cause = FieldCause

    public var code: Int
    public var reason: String
    public var message: String
    public var causes: [Cause]
    public var retryAfterSeconds: Int?
    /// `details.name`, `details.kind` and `details.group` when the server gave them.
    public var name: String?
    public var kind: String?
    public var group: String?

    public init(code: Int, reason: String, message: String, causes: [Cause] = [], retryAfterSeconds: Int? = nil,
                name: String? = nil, kind: String? = nil, group: String? = nil)
    {
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
        self.name = name
        self.kind = kind
        self.group = group
    }

    /// Reads a response body: a `Status` object when it is one, otherwise a
    /// description of what came back, so a proxy's HTML error page still gives
    /// a readable error.
    public init(statusCode: Int, body: [UInt8], retryAfterHeader: String?) {
        let headerRetry = retryAfterHeader.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        if let status = try? JSON.parse(body), status["kind"] == "Status" {
            let details = status["details"]
            self.init(
                code: Int(status["code"]?.intValue ?? Int64(statusCode)),
                reason: status["reason"]?.stringValue ?? KubeAPIError.reason(forCode: statusCode),
                message: status["message"]?.stringValue ?? "",
                causes: (details?["causes"]?.arrayValue ?? []).map {
                    Cause(reason: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "", field: $0["field"]?.stringValue ?? "")
                },
                retryAfterSeconds: headerRetry ?? details?["retryAfterSeconds"]?.intValue.map(Int.init),
                name: details?["name"]?.stringValue, kind: details?["kind"]?.stringValue, group: details?["group"]?.stringValue)
            return
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(code: statusCode, reason: KubeAPIError.reason(forCode: statusCode),
                  message: text.isEmpty ? "the server answered \(statusCode) with an empty body" : "the server answered \(statusCode) with a body that is not a Status: \(text)",
                  retryAfterSeconds: headerRetry)
    }

    /// The reason kube-apiserver uses for a bare HTTP status.
    static func reason(forCode code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 406: return "NotAcceptable"
        case 409: return "Conflict"
        case 410: return "Expired"
        case 413: return "RequestEntityTooLarge"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return "Unknown"
        }
    }

    public var description: String {
        let what = [group, kind, name].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "/")
        return "\(code) \(reason)\(what.isEmpty ? "" : " (\(what))"): \(message)"
    }

    public var isNotFound: Bool { reason == "NotFound" || (code == 404 && reason == "Unknown") }
    public var isAlreadyExists: Bool { reason == "AlreadyExists" }
    public var isConflict: Bool { reason == "Conflict" || (code == 409 && reason != "AlreadyExists") }
    /// 410: the resourceVersion is too old (watch or continue token); relist.
    public var isGone: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
    public var isTooManyRequests: Bool { code == 429 || reason == "TooManyRequests" }
    public var isInvalid: Bool { reason == "Invalid" || code == 422 }
    public var isBadRequest: Bool { reason == "BadRequest" }
    public var isForbidden: Bool { reason == "Forbidden" || code == 403 }
    public var isUnauthorized: Bool { reason == "Unauthorized" || code == 401 }
    public var isServerTimeout: Bool { reason == "ServerTimeout" || reason == "Timeout" || code == 504 }
    public var isInternalError: Bool { reason == "InternalError" || code == 500 }
    public var isServiceUnavailable: Bool { reason == "ServiceUnavailable" || code == 503 }
}
