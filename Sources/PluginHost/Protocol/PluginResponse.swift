import KubeCore

/// The version of the plugin protocol this host speaks (docs/plugin-protocol.md).
public let pluginProtocolVersion = "plugboard.dev/v1alpha1"

/// An object an action names without carrying it: patch and delete.
public struct ObjectTarget: Sendable, Hashable, CustomStringConvertible {
    public var apiVersion: String
    public var kind: String
    /// nil: the primary's namespace for namespaced kinds.
    public var namespace: String?
    public var name: String

    public init(apiVersion: String, kind: String, namespace: String?, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(kind).\(apiVersion) \(namespace.map { $0 + "/" } ?? "")\(name)" }
}

/// One desired-state action of a plugin's answer, checked for shape.
public enum PluginAction: Sendable, Hashable {
    public enum PatchKind: String, Sendable, Hashable { case merge, json }
    public enum EventType: String, Sendable, Hashable { case normal = "Normal", warning = "Warning" }

    /// Server-side apply. `ownerReference` nil: add one when the kind is owned.
    case apply(object: JSON, force: Bool, ownerReference: Bool?)
    case create(object: JSON, ownerReference: Bool?)
    case update(object: JSON)
    case patch(target: ObjectTarget, type: PatchKind, patch: JSON)
    case delete(target: ObjectTarget, uid: String?)
    /// Server-side apply of `.status` on the primary.
    case status(JSON)
    case event(type: EventType, reason: String, message: String)
    case addFinalizer(String)
    case removeFinalizer(String)

    /// The protocol's name of the action, also the `action` metric label.
    public var name: String {
        switch self {
        case .apply: "apply"
        case .create: "create"
        case .update: "update"
        case .patch: "patch"
        case .delete: "delete"
        case .status: "status"
        case .event: "event"
        case .addFinalizer: "addFinalizer"
        case .removeFinalizer: "removeFinalizer"
        }
    }
}

/// A plugin's answer to a reconcile request.
public struct PluginResponse: Sendable, Hashable {
    public var actions: [PluginAction]
    public var requeueAfter: Duration?
    /// The plugin reports a failure: its actions are applied, then the key backs off.
    public var error: String?

    public init(actions: [PluginAction] = [], requeueAfter: Duration? = nil, error: String? = nil) {
        self.actions = actions
        self.requeueAfter = requeueAfter
        self.error = error
    }
}

/// What is wrong with a plugin's answer: where in the body, and why.
public struct InvalidResponse: Error, Sendable, Hashable, CustomStringConvertible {
    /// A JSON path such as `actions[2].object.metadata.name`, empty for the whole body.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension PluginResponse {
    /// Bodies above this size are refused before parsing.
    public static let maxBodyBytes = 16 << 20

    /// Parses and checks the shape of a response body. Unknown fields are
    /// errors, so that a typo in a plugin does not silently do nothing.
    public static func parse(_ bytes: [UInt8]) throws(InvalidResponse) -> PluginResponse {
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            let preview = String(decoding: bytes.prefix(80), as: UTF8.self)
            throw InvalidResponse(path: "", message: "the body is not JSON (\(error)); it starts with \"\(preview)\"")
        }
        guard let body = json.objectValue else {
            throw InvalidResponse(path: "", message: "the body must be a JSON object, got \(json.typeName)")
        }
        try checkFields(body, allowed: bodyFields, at: "")
        var response = PluginResponse()
        if let value = body["actions"], !value.isNull {
            guard let list = value.arrayValue else { throw InvalidResponse(path: "actions", message: "must be an array, got \(value.typeName)") }
            response.actions = try list.enumerated().map { (index, item) throws(InvalidResponse) in try parseAction(item, at: "actions[\(index)]") }
        }
        if let value = body["requeueAfterSeconds"], !value.isNull {
            guard let seconds = value.doubleValue, seconds > 0, seconds <= 86_400 * 30 else {
                throw InvalidResponse(path: "requeueAfterSeconds", message: "must be a number of seconds above 0 and at most 30 days, got \(value)")
            }
            response.requeueAfter = .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
        if let value = body["error"], !value.isNull {
            guard let text = value.stringValue else { throw InvalidResponse(path: "error", message: "must be a string, got \(value.typeName)") }
            response.error = text.isEmpty ? nil : text
        }
        return response
    }

    static func parseAction(_ json: JSON, at path: String) throws(InvalidResponse) -> PluginAction {
        guard let action = json.objectValue else { throw InvalidResponse(path: path, message: "an action must be an object, got \(json.typeName)") }
        let type = try string(action, "type", at: path)
        switch type {
        case "apply":
            try checkFields(action, allowed: ["type", "object", "force", "ownerReference"], at: path)
            return .apply(object: try object(action, at: path), force: try bool(action, "force", at: path) ?? true,
                          ownerReference: try bool(action, "ownerReference", at: path))
        case "create":
            try checkFields(action, allowed: ["type", "object", "ownerReference"], at: path)
            return .create(object: try object(action, at: path), ownerReference: try bool(action, "ownerReference", at: path))
        case "update":
            try checkFields(action, allowed: ["type", "object"], at: path)
            return .update(object: try object(action, at: path))
        case "patch":
            try checkFields(action, allowed: ["type", "apiVersion", "kind", "namespace", "name", "patchType", "patch"], at: path)
            let kindText = try string(action, "patchType", at: path)
            guard let kind = PluginAction.PatchKind(rawValue: kindText) else {
                throw InvalidResponse(path: path + ".patchType", message: "must be \"merge\" or \"json\", got \"\(kindText)\"")
            }
            guard let patch = action["patch"] else { throw InvalidResponse(path: path + ".patch", message: "is required") }
            switch kind {
            case .merge where patch.objectValue == nil:
                throw InvalidResponse(path: path + ".patch", message: "a merge patch must be an object, got \(patch.typeName)")
            case .json where patch.arrayValue == nil:
                throw InvalidResponse(path: path + ".patch", message: "a JSON patch must be an array of operations, got \(patch.typeName)")
            default: break
            }
            return .patch(target: try target(action, at: path), type: kind, patch: patch)
        case "delete":
            try checkFields(action, allowed: ["type", "apiVersion", "kind", "namespace", "name", "uid"], at: path)
            return .delete(target: try target(action, at: path), uid: try optionalString(action, "uid", at: path))
        case "status":
            try checkFields(action, allowed: ["type", "status"], at: path)
            guard let status = action["status"], status.objectValue != nil else {
                throw InvalidResponse(path: path + ".status", message: "must be an object")
            }
            return .status(status)
        case "event":
            try checkFields(action, allowed: ["type", "eventType", "reason", "message"], at: path)
            let typeText = try optionalString(action, "eventType", at: path) ?? "Normal"
            guard let eventType = PluginAction.EventType(rawValue: typeText) else {
                throw InvalidResponse(path: path + ".eventType", message: "must be \"Normal\" or \"Warning\", got \"\(typeText)\"")
            }
            let reason = try string(action, "reason", at: path)
            guard reason.count <= 128, reason.first?.isUppercase == true, reason.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw InvalidResponse(path: path + ".reason", message: "must be UpperCamelCase letters and digits, at most 128, got \"\(reason)\"")
            }
            let message = try optionalString(action, "message", at: path) ?? ""
            return .event(type: eventType, reason: reason, message: String(message.prefix(1024)))
        case "addFinalizer", "removeFinalizer":
            try checkFields(action, allowed: ["type", "finalizer"], at: path)
            let finalizer = try string(action, "finalizer", at: path)
            guard isQualifiedFinalizer(finalizer) else {
                throw InvalidResponse(path: path + ".finalizer", message: "must be a qualified name such as example.com/cleanup, got \"\(finalizer)\"")
            }
            return type == "addFinalizer" ? .addFinalizer(finalizer) : .removeFinalizer(finalizer)
        default:
            throw InvalidResponse(path: path + ".type", message: "unknown action type \"\(type)\"; expected apply, create, update, patch, delete, status, event, addFinalizer or removeFinalizer")
        }
    }

    static let bodyFields: Set<String> = ["actions", "requeueAfterSeconds", "error"]

    static func checkFields(_ object: [String: JSON], allowed: Set<String>, at path: String) throws(InvalidResponse) {
        // Sorted only when a field is unknown, so that the error names the first one.
        guard object.keys.contains(where: { !allowed.contains($0) }) else { return }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw InvalidResponse(path: path.isEmpty ? unknown : "\(path).\(unknown)", message: "unknown field; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    static func string(_ object: [String: JSON], _ key: String, at path: String) throws(InvalidResponse) -> String {
        guard let value = object[key] else { throw InvalidResponse(path: "\(path).\(key)", message: "is required") }
        guard let text = value.stringValue, !text.isEmpty else {
            throw InvalidResponse(path: "\(path).\(key)", message: "must be a non-empty string, got \(value.typeName == "string" ? "\"\"" : value.typeName)")
        }
        return text
    }

    static func optionalString(_ object: [String: JSON], _ key: String, at path: String) throws(InvalidResponse) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw InvalidResponse(path: "\(path).\(key)", message: "must be a string, got \(value.typeName)") }
        return text
    }

    static func bool(_ object: [String: JSON], _ key: String, at path: String) throws(InvalidResponse) -> Bool? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let flag = value.boolValue else { throw InvalidResponse(path: "\(path).\(key)", message: "must be true or false, got \(value.typeName)") }
        return flag
    }

    /// The `object` of apply, create and update: apiVersion, kind and metadata.name are required.
    static func object(_ action: [String: JSON], at path: String) throws(InvalidResponse) -> JSON {
        guard let object = action["object"], let fields = object.objectValue else {
            throw InvalidResponse(path: path + ".object", message: "must be an object")
        }
        _ = try string(fields, "apiVersion", at: path + ".object")
        _ = try string(fields, "kind", at: path + ".object")
        guard let metadata = fields["metadata"]?.objectValue else {
            throw InvalidResponse(path: path + ".object.metadata", message: "must be an object with a name")
        }
        _ = try string(metadata, "name", at: path + ".object.metadata")
        _ = try optionalString(metadata, "namespace", at: path + ".object.metadata")
        return object
    }

    static func target(_ action: [String: JSON], at path: String) throws(InvalidResponse) -> ObjectTarget {
        ObjectTarget(apiVersion: try string(action, "apiVersion", at: path), kind: try string(action, "kind", at: path),
                     namespace: try optionalString(action, "namespace", at: path), name: try string(action, "name", at: path))
    }

    /// `prefix/name` where the prefix is a DNS subdomain, as finalizer names must be.
    static func isQualifiedFinalizer(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0].count <= 253, parts[1].count <= 63 else { return false }
        let dns = parts[0].allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
        let name = parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
        return dns && name
    }
}
