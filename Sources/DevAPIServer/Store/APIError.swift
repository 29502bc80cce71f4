import KubeCore

/// An error the API server answers with: rendered as a `Status` object with
/// the HTTP code, `reason` and `message` that kube-apiserver uses for the same case.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSON?
    /// Seconds a client should wait before retrying; sent as `Retry-After` too.
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: String, message: String, details: JSON? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `Status` object sent in the body (and in watch ERROR events).
    public var status: JSON {
        var status: JSON = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:],
            "status": "Failure", "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        var details = self.details
        if let retryAfterSeconds {
            if details == nil { details = [:] }
            details?["retryAfterSeconds"] = .int(Int64(retryAfterSeconds))
        }
        if let details { status["details"] = details }
        if reason.isEmpty { status["reason"] = nil }
        return status
    }
}

extension APIError {
    static func detailsFor(name: String?, resource: ResourceInfo?, causes: [FieldCause] = []) -> JSON {
        var d: JSON = [:]
        if let name, !name.isEmpty { d["name"] = .string(name) }
        if let resource {
            if !resource.group.isEmpty { d["group"] = .string(resource.group) }
            d["kind"] = .string(resource.resource)
        }
        if !causes.isEmpty {
            d["causes"] = .array(causes.map { cause -> JSON in
                ["reason": .string(cause.reason), "message": .string(cause.message), "field": .string(cause.field)]
            })
        }
        return d
    }

    static func notFound(_ resource: ResourceInfo, name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(resource.qualifiedResource) \"\(name)\" not found",
                 details: detailsFor(name: name, resource: resource))
    }

    static func namespaceNotFound(_ namespace: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
                 details: ["name": .string(namespace), "kind": "namespaces"])
    }

    static func alreadyExists(_ resource: ResourceInfo, name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(resource.qualifiedResource) \"\(name)\" already exists",
                 details: detailsFor(name: name, resource: resource))
    }

    static func conflict(_ resource: ResourceInfo, name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(resource.qualifiedResource) \"\(name)\": \(why)",
                 details: detailsFor(name: name, resource: resource))
    }

    static let modifiedMessage = "the object has been modified; please apply your changes to the latest version and try again"

    static func invalid(_ resource: ResourceInfo, name: String, causes: [FieldCause]) -> APIError {
        let list = causes.map { "\($0.field): \($0.message)" }
        let summary = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        let kind = resource.group.isEmpty ? resource.kind : "\(resource.kind).\(resource.group)"
        return APIError(code: 422, reason: "Invalid", message: "\(kind) \"\(name)\" is invalid: \(summary)",
                        details: detailsFor(name: name, resource: resource, causes: causes).with(kind: resource.kind))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    static func notFoundPath() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: ["causes": [["reason": "UnexpectedServerResponse", "message": "404 page not found"]]])
    }

    static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got \(contentType))")
    }

    static func forbidden(_ message: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message)
    }

    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)")
    }

    static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }
}

extension JSON {
    func with(kind: String) -> JSON {
        var copy = self
        copy["kind"] = .string(kind)
        return copy
    }
}
