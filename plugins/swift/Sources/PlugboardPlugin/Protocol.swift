import Foundation

// The plugin protocol, v1alpha1 (docs/plugin-protocol.md in the Plugboard
// repository). Objects stay dynamic — `[String: Any]` as Foundation's
// JSONSerialization produces and consumes them — so a plugin can read and
// write any resource without generated types.
//
// Concurrency: `ReconcileRequest` and `ReconcileResponse` hold `Any` values
// and are deliberately not `Sendable`. Each one is created, handed to the
// reconcile function and serialised on the one thread that serves its
// connection, so they never cross threads and need no wrapper.

/// The protocol version this SDK speaks.
public let pluginProtocolVersion = "plugboard.dev/v1alpha1"

/// A JSON object as JSONSerialization produces it.
public typealias JSONObject = [String: Any]

/// One action of a response; build it with the constructors below:
/// `.apply(object)`, `.patch(...)`, `.event(...)`, `.addFinalizer(...)`, …
public typealias Action = [String: Any]

/// Namespace and name of the primary object. `namespace` is "" for cluster-scoped kinds.
public struct ReconcileKey: Sendable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// A request body the SDK cannot use: answered 400 with the message.
public struct ProtocolError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What the host asks: reconcile this key, given the cached state.
public struct ReconcileRequest {
    public var apiVersion: String
    public var plugin: String
    public var key: ReconcileKey
    /// 1 on the first try, counting up while the key is retried.
    public var attempt: Int
    /// The primary has a deletion timestamp (it waits for finalizers).
    public var deleting: Bool
    /// The primary as cached, or nil when it no longer exists.
    public var object: JSONObject?
    /// Objects the primary owns, by `Kind.apiVersion`.
    public var children: [String: [JSONObject]]
    /// Other objects the plugin asked for, by `Kind.apiVersion`.
    public var related: [String: [JSONObject]]

    public init(plugin: String = "", key: ReconcileKey, attempt: Int = 1, deleting: Bool = false, object: JSONObject?,
                children: [String: [JSONObject]] = [:], related: [String: [JSONObject]] = [:]) {
        self.apiVersion = pluginProtocolVersion
        self.plugin = plugin
        self.key = key
        self.attempt = attempt
        self.deleting = deleting
        self.object = object
        self.children = children
        self.related = related
    }

    /// Reads a decoded request body. Unknown fields are ignored, so that a
    /// newer host can add some; a wrong protocol version or key is an error.
    public init(json body: JSONObject) throws(ProtocolError) {
        let version = body["apiVersion"] as? String ?? pluginProtocolVersion
        guard version == pluginProtocolVersion else {
            throw ProtocolError("unsupported protocol version \"\(version)\"; this plugin speaks \(pluginProtocolVersion)")
        }
        if let kind = body["kind"], kind as? String != "ReconcileRequest" {
            throw ProtocolError("kind must be \"ReconcileRequest\", got \(kind)")
        }
        guard let key = body["key"] as? JSONObject, let name = key["name"] as? String, !name.isEmpty else {
            throw ProtocolError("key.name is required")
        }
        let namespace = key["namespace"] as? String ?? ""
        var object: JSONObject?
        switch body["object"] {
        case nil, is NSNull: object = nil
        case let value as JSONObject: object = value
        case let value?: throw ProtocolError("object must be an object or null, got \(type(of: value))")
        }
        self.init(plugin: body["plugin"] as? String ?? "", key: ReconcileKey(namespace: namespace, name: name),
                  attempt: JSONValue.int(body["attempt"]) ?? 1, deleting: JSONValue.bool(body["deleting"]) ?? false,
                  object: object, children: try Self.groups(body["children"], "children"),
                  related: try Self.groups(body["related"], "related"))
        self.apiVersion = version
    }

    private static func groups(_ value: Any?, _ field: String) throws(ProtocolError) -> [String: [JSONObject]] {
        switch value {
        case nil, is NSNull: return [:]
        case let groups as [String: Any]:
            var out: [String: [JSONObject]] = [:]
            for (name, list) in groups {
                guard let objects = list as? [Any] else { throw ProtocolError("\(field).\(name) must be an array") }
                out[name] = try objects.map { item throws(ProtocolError) in
                    guard let object = item as? JSONObject else { throw ProtocolError("\(field).\(name) must hold objects") }
                    return object
                }
            }
            return out
        default: throw ProtocolError("\(field) must be an object")
        }
    }

    // Conveniences for the primary's metadata ---------------------------------
    public var metadata: JSONObject? { object?["metadata"] as? JSONObject }
    public var labels: [String: String] { metadata?["labels"] as? [String: String] ?? [:] }
    public var annotations: [String: String] { metadata?["annotations"] as? [String: String] ?? [:] }
    public var finalizers: [String] { metadata?["finalizers"] as? [String] ?? [] }
    public var uid: String? { metadata?["uid"] as? String }
    public var generation: Int? { JSONValue.int(metadata?["generation"]) }
}

/// The plugin's answer. An empty response (no actions) means "nothing to do".
public struct ReconcileResponse {
    public var actions: [Action]
    /// Reconcile this key again after this many seconds (above 0, at most 30 days).
    public var requeueAfterSeconds: Double?
    /// Report a failure: the host applies the actions, then retries the key with backoff.
    public var error: String?

    public init(actions: [Action] = [], requeueAfterSeconds: Double? = nil, error: String? = nil) {
        self.actions = actions
        self.requeueAfterSeconds = requeueAfterSeconds
        self.error = error
    }

    /// The response body as a JSON object; absent fields are left out.
    public var json: JSONObject {
        var body: JSONObject = ["actions": actions]
        if let requeueAfterSeconds { body["requeueAfterSeconds"] = requeueAfterSeconds }
        if let error { body["error"] = error }
        return body
    }
}

public enum PatchType: String, Sendable { case merge, json }
public enum EventType: String, Sendable { case normal = "Normal", warning = "Warning" }

extension Dictionary where Key == String, Value == Any {
    /// Server-side apply of a whole object (apiVersion, kind, metadata.name required).
    public static func apply(_ object: JSONObject, force: Bool? = nil, ownerReference: Bool? = nil) -> Action {
        var action: Action = ["type": "apply", "object": object]
        if let force { action["force"] = force }
        if let ownerReference { action["ownerReference"] = ownerReference }
        return action
    }

    public static func create(_ object: JSONObject, ownerReference: Bool? = nil) -> Action {
        var action: Action = ["type": "create", "object": object]
        if let ownerReference { action["ownerReference"] = ownerReference }
        return action
    }

    public static func update(_ object: JSONObject) -> Action { ["type": "update", "object": object] }

    /// A merge patch (`patch` is an object) or a JSON patch (`patch` is an array of
    /// operations). `namespace` nil: the primary's namespace.
    public static func patch(apiVersion: String, kind: String, namespace: String? = nil, name: String,
                             patchType: PatchType = .merge, patch: Any) -> Action {
        var action: Action = ["type": "patch", "apiVersion": apiVersion, "kind": kind, "name": name,
                              "patchType": patchType.rawValue, "patch": patch]
        if let namespace { action["namespace"] = namespace }
        return action
    }

    /// `uid`: delete only that incarnation of the object.
    public static func delete(apiVersion: String, kind: String, namespace: String? = nil, name: String, uid: String? = nil) -> Action {
        var action: Action = ["type": "delete", "apiVersion": apiVersion, "kind": kind, "name": name]
        if let namespace { action["namespace"] = namespace }
        if let uid { action["uid"] = uid }
        return action
    }

    /// Server-side apply of the primary's `.status`.
    public static func status(_ status: JSONObject) -> Action { ["type": "status", "status": status] }

    /// An Event on the primary. `reason` is UpperCamelCase.
    public static func event(_ type: EventType = .normal, reason: String, message: String) -> Action {
        ["type": "event", "eventType": type.rawValue, "reason": reason, "message": message]
    }

    /// `finalizer` is qualified, such as `example.com/cleanup`.
    public static func addFinalizer(_ finalizer: String) -> Action { ["type": "addFinalizer", "finalizer": finalizer] }
    public static func removeFinalizer(_ finalizer: String) -> Action { ["type": "removeFinalizer", "finalizer": finalizer] }
}

/// Reading numbers and booleans that JSONSerialization may hand back as
/// NSNumber, Int, Double or Bool depending on the platform.
public enum JSONValue {
    public static func int(_ value: Any?) -> Int? {
        switch value {
        case let int as Int: return int
        case let double as Double where double.rounded() == double && abs(double) < 9.0e15: return Int(double)
        case let number as NSNumber: return number.intValue
        default: return nil
        }
    }

    public static func bool(_ value: Any?) -> Bool? {
        switch value {
        case let bool as Bool: return bool
        default: return nil
        }
    }
}
