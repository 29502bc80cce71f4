import Foundation
import KubeClient
import KubeCore
import PluginConfig

/// An action that passed every check, ready to be sent.
struct PlannedWrite: Sendable {
    enum Operation: Sendable {
        case apply(body: JSON, force: Bool)
        case create(body: JSON)
        case update(body: JSON)
        case patch(body: JSON, type: PluginAction.PatchKind)
        case delete(uid: String?)
        case status(body: JSON)
        case event(body: JSON)
        /// Add or remove one finalizer of the primary, computed when it is applied
        /// from the newest state of the primary this response has seen.
        case finalizer(String, add: Bool)
    }

    var action: String
    var resource: GroupVersionResource
    var namespace: String?
    var name: String
    var operation: Operation
}

/// Why a plugin's actions were rejected: the index of the first bad action and
/// the reason. Nothing of the response was applied.
public struct RejectedAction: Error, Sendable, CustomStringConvertible {
    public var index: Int
    public var action: String
    public var reason: String
    public var description: String { "actions[\(index)] (\(action)): \(reason)" }
}

/// A write that failed at the API server, after the actions before it were applied.
public struct ActionFailed: Error, Sendable, CustomStringConvertible {
    public var index: Int
    public var action: String
    public var error: KubeAPIError
    public var description: String { "actions[\(index)] (\(action)) failed: \(error)" }
}

/// Checks a plugin's actions against its permissions and applies them.
///
/// Every action is checked first — its shape was checked when the response was
/// parsed; here its kind must be one the plugin may write, in a namespace it may
/// write to, with that verb — and if any fails, none is applied. Kinds are
/// looked up only among the plugin's own resolved permissions: an action can
/// never make the host call discovery or touch a resource outside its config.
public struct ActionApplier: Sendable {
    public let plugin: ResolvedPlugin
    public let transport: Transport
    public let writeLimiter: TokenBucket
    public let component: String
    /// Told how long each write waited for the write limiter.
    let waitedForWrite: @Sendable (ContinuousClock.Instant) -> Void

    public init(plugin: ResolvedPlugin, transport: Transport, writeLimiter: TokenBucket, component: String = "plugboard",
                waitedForWrite: @escaping @Sendable (ContinuousClock.Instant) -> Void = { _ in }) {
        self.plugin = plugin
        self.transport = transport
        self.writeLimiter = writeLimiter
        self.component = component
        self.waitedForWrite = waitedForWrite
    }

    /// Checks every action; throws `RejectedAction` for the first that is not allowed.
    func plan(_ actions: [PluginAction], key: ReconcileKey, primary: KubeObject?) throws(RejectedAction) -> [PlannedWrite] {
        var writes: [PlannedWrite] = []
        for (index, action) in actions.enumerated() {
            do {
                writes.append(try plan(action, key: key, primary: primary))
            } catch let reason {
                throw RejectedAction(index: index, action: action.name, reason: reason.message)
            }
        }
        return writes
    }

    struct Reason: Error { var message: String }

    private func plan(_ action: PluginAction, key: ReconcileKey, primary: KubeObject?) throws(Reason) -> PlannedWrite {
        switch action {
        case .apply(let object, let force, let ownerReference):
            let (resource, namespace, name) = try locate(object, verb: .apply, key: key)
            let body = try withOwner(object, resource: resource, namespace: namespace, explicit: ownerReference, primary: primary)
            return PlannedWrite(action: action.name, resource: resource.gvr, namespace: namespace, name: name, operation: .apply(body: body, force: force))
        case .create(let object, let ownerReference):
            let (resource, namespace, name) = try locate(object, verb: .create, key: key)
            let body = try withOwner(object, resource: resource, namespace: namespace, explicit: ownerReference, primary: primary)
            return PlannedWrite(action: action.name, resource: resource.gvr, namespace: namespace, name: name, operation: .create(body: body))
        case .update(let object):
            let (resource, namespace, name) = try locate(object, verb: .update, key: key)
            return PlannedWrite(action: action.name, resource: resource.gvr, namespace: namespace, name: name,
                                operation: .update(body: withNamespace(object, namespace)))
        case .patch(let target, let type, let patch):
            let (resource, namespace) = try grant(apiVersion: target.apiVersion, kind: target.kind, namespace: target.namespace, verb: .patch, key: key)
            return PlannedWrite(action: action.name, resource: resource.gvr, namespace: namespace, name: target.name, operation: .patch(body: patch, type: type))
        case .delete(let target, let uid):
            let (resource, namespace) = try grant(apiVersion: target.apiVersion, kind: target.kind, namespace: target.namespace, verb: .delete, key: key)
            return PlannedWrite(action: action.name, resource: resource.gvr, namespace: namespace, name: target.name, operation: .delete(uid: uid))
        case .status(let status):
            guard primary != nil else { throw Reason(message: "the primary object is gone; there is no status to write") }
            guard plugin.grants.contains(where: { $0.resource.gvr == plugin.primary.gvr && $0.permission.verbs.contains(.status) }) else {
                throw Reason(message: "the plugin's permissions do not allow status on \(plugin.primary.kind)")
            }
            guard plugin.primary.mapping.subresources.contains("status") else {
                throw Reason(message: "\(plugin.primary.kind) has no status subresource")
            }
            var metadata: [String: JSON] = ["name": .string(key.name)]
            if !key.namespace.isEmpty { metadata["namespace"] = .string(key.namespace) }
            let body: JSON = ["apiVersion": .string(plugin.primary.apiVersion), "kind": .string(plugin.primary.kind),
                              "metadata": .object(metadata), "status": status]
            return PlannedWrite(action: action.name, resource: plugin.primary.gvr, namespace: key.namespace.isEmpty ? nil : key.namespace,
                                name: key.name, operation: .status(body: body))
        case .event(let type, let reason, let message):
            guard let primary else { throw Reason(message: "the primary object is gone; an event needs an object to be about") }
            let namespace = key.namespace.isEmpty ? "default" : key.namespace
            return PlannedWrite(action: action.name, resource: GroupVersionResource(group: "", version: "v1", resource: "events"), namespace: namespace,
                                name: key.name, operation: .event(body: eventBody(about: primary, type: type.rawValue, reason: reason, message: message)))
        case .addFinalizer(let finalizer), .removeFinalizer(let finalizer):
            guard primary != nil else { throw Reason(message: "the primary object is gone; it has no finalizers") }
            var add = false
            if case .addFinalizer = action { add = true }
            return PlannedWrite(action: action.name, resource: plugin.primary.gvr, namespace: key.namespace.isEmpty ? nil : key.namespace,
                                name: key.name, operation: .finalizer(finalizer, add: add))
        }
    }

    /// The resource, namespace and name of an object an action carries, if the plugin may write it.
    private func locate(_ object: JSON, verb: Permission.Verb, key: ReconcileKey) throws(Reason) -> (ResolvedResource, String?, String) {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        let (resource, namespace) = try grant(apiVersion: apiVersion, kind: kind, namespace: object[path: ["metadata", "namespace"]]?.stringValue,
                                              verb: verb, key: key)
        return (resource, namespace, name)
    }

    /// The grant that allows `verb` on this kind in this namespace.
    private func grant(apiVersion: String, kind: String, namespace: String?, verb: Permission.Verb, key: ReconcileKey) throws(Reason) -> (ResolvedResource, String?) {
        let candidates = plugin.grants.filter { $0.resource.matches(apiVersion: apiVersion, kind: kind) }
        guard let resource = candidates.first?.resource else {
            throw Reason(message: "\(kind).\(apiVersion) is not in the plugin's permissions")
        }
        guard resource.apiVersion == apiVersion else {
            throw Reason(message: "\(kind) is served as \(resource.apiVersion) for this plugin, not \(apiVersion)")
        }
        var target: String?
        if resource.namespaced {
            target = (namespace?.isEmpty == false) ? namespace : (key.namespace.isEmpty ? nil : key.namespace)
            guard target != nil else {
                throw Reason(message: "\(kind) is namespaced: the object needs a namespace (the primary is cluster-scoped)")
            }
        } else if let namespace, !namespace.isEmpty {
            throw Reason(message: "\(kind) is cluster-scoped but the object names namespace \"\(namespace)\"")
        }
        let allowed = candidates.contains { grant in
            guard grant.permission.verbs.contains(verb) else { return false }
            guard let target else { return true }
            switch grant.permission.namespaces {
            case .all: return true
            case .same: return target == key.namespace
            case .list(let names): return names.contains(target)
            }
        }
        guard allowed else {
            let place = target.map { " in namespace \"\($0)\"" } ?? ""
            throw Reason(message: "the plugin's permissions do not allow \(verb.rawValue) on \(kind)\(place)")
        }
        return (resource, target)
    }

    private func withNamespace(_ object: JSON, _ namespace: String?) -> JSON {
        guard let namespace else { return object }
        var object = object
        object[path: ["metadata", "namespace"]] = .string(namespace)
        return object
    }

    /// The object with its namespace filled in and, for owned kinds (or when the
    /// action asks), a controller owner reference to the primary.
    private func withOwner(_ object: JSON, resource: ResolvedResource, namespace: String?, explicit: Bool?, primary: KubeObject?) throws(Reason) -> JSON {
        var object = withNamespace(object, namespace)
        let wanted = explicit ?? (plugin.owned(apiVersion: resource.apiVersion, kind: resource.kind) != nil)
        guard wanted else { return object }
        guard let primary else {
            if explicit == true { throw Reason(message: "the primary object is gone; it cannot be an owner") }
            return object
        }
        if plugin.primary.namespaced {
            guard namespace == primary.metadata.namespace else {
                throw Reason(message: "an owner reference cannot cross namespaces (object in \"\(namespace ?? "")\", owner in \"\(primary.metadata.namespace)\"); set ownerReference: false")
            }
        }
        var references = object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        if references.contains(where: { $0["uid"]?.stringValue == primary.metadata.uid }) { return object }
        if references.contains(where: { $0["controller"]?.boolValue == true }) {
            throw Reason(message: "the object already names another controller owner")
        }
        references.append(["apiVersion": .string(plugin.primary.apiVersion), "kind": .string(plugin.primary.kind),
                           "name": .string(primary.metadata.name), "uid": .string(primary.metadata.uid),
                           "controller": true, "blockOwnerDeletion": true])
        object[path: ["metadata", "ownerReferences"]] = .array(references)
        return object
    }

    private func eventBody(about primary: KubeObject, type: String, reason: String, message: String) -> JSON {
        let now = Self.timestamp(Date())
        var involved: [String: JSON] = ["apiVersion": .string(plugin.primary.apiVersion), "kind": .string(plugin.primary.kind),
                                        "name": .string(primary.metadata.name), "uid": .string(primary.metadata.uid),
                                        "resourceVersion": .string(primary.metadata.resourceVersion)]
        if !primary.metadata.namespace.isEmpty { involved["namespace"] = .string(primary.metadata.namespace) }
        return ["apiVersion": "v1", "kind": "Event",
                "metadata": ["name": .string(Self.eventName(for: primary.metadata.name)),
                             "namespace": .string(primary.metadata.namespace.isEmpty ? "default" : primary.metadata.namespace)],
                "involvedObject": .object(involved), "type": .string(type), "reason": .string(reason), "message": .string(message),
                "source": ["component": .string("\(component)/\(plugin.name)")], "reportingComponent": .string(component),
                "reportingInstance": .string(plugin.name), "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1]
    }

    /// `<object>.<nanoseconds in hex>`, as Kubernetes' own event recorders name events.
    static func eventName(for object: String) -> String {
        let suffix = String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16)
        return String(object.prefix(253 - suffix.count - 1)) + "." + suffix
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Checks every action, then applies them in order. Throws `RejectedAction`
    /// (nothing applied) or `ActionFailed` (the writes before it were applied).
    /// `written` is called after each write with the action name and whether it succeeded.
    public func apply(_ actions: [PluginAction], key: ReconcileKey, primary: KubeObject?,
                      written: @Sendable (String, Bool) -> Void = { _, _ in }) async throws {
        let writes = try plan(actions, key: key, primary: primary)
        // The primary as this response has last seen it: a finalizer change after a
        // status write must start from the status write's resourceVersion.
        var current = primary
        for (index, write) in writes.enumerated() {
            do {
                let result = try await perform(write, primary: current)
                if let result, write.resource == plugin.primary.gvr, write.name == key.name,
                   (write.namespace ?? "") == key.namespace, let updated = try? KubeObject(bytes: result, cutManagedFields: true) {
                    current = updated
                }
                written(write.action, true)
            } catch let error as KubeAPIError {
                written(write.action, false)
                throw ActionFailed(index: index, action: write.action, error: error)
            }
        }
    }

    /// Sends one write; returns the object the server answered with, when there is one.
    private func perform(_ write: PlannedWrite, primary: KubeObject?) async throws -> [UInt8]? {
        let client = ResourceClient(transport: transport, resource: write.resource, namespace: write.namespace)
        let options = WriteOptions(fieldManager: plugin.spec.fieldManager)
        var finalizerPatch: JSON?
        if case .finalizer(let name, let add) = write.operation {
            guard let primary else { return nil }
            var finalizers = primary.metadata.finalizers
            if add {
                if !finalizers.contains(name) { finalizers.append(name) }
            } else {
                finalizers.removeAll { $0 == name }
            }
            if finalizers == primary.metadata.finalizers { return nil }
            // The resourceVersion makes the patch conditional: if the object changed
            // since, the server answers 409 and the key is reconciled again.
            finalizerPatch = ["metadata": ["resourceVersion": .string(primary.metadata.resourceVersion),
                                           "finalizers": .array(finalizers.map { .string($0) })]]
        }
        let waitStart = ContinuousClock.now
        try await writeLimiter.wait()
        waitedForWrite(waitStart)
        switch write.operation {
        case .apply(let body, let force):
            return try await client.patch(write.name, body.serialized(), type: .apply(force: force), options: options)
        case .create(let body):
            do {
                return try await client.create(body.serialized(), options: options)
            } catch let error as KubeAPIError where error.isAlreadyExists {
                return nil
            }
        case .update(let body):
            return try await client.update(write.name, body.serialized(), options: options)
        case .patch(let body, let type):
            return try await client.patch(write.name, body.serialized(), type: type == .merge ? .merge : .json, options: options)
        case .delete(let uid):
            do {
                _ = try await client.delete(write.name, options: DeleteOptions(propagationPolicy: .background, preconditionUID: uid))
            } catch let error as KubeAPIError where error.isNotFound {
                return nil
            }
            return nil
        case .status(let body):
            return try await client.patch(write.name, body.serialized(), type: .apply(force: true), subresource: "status", options: options)
        case .event(let body):
            _ = try await client.create(body.serialized())
            return nil
        case .finalizer:
            guard let finalizerPatch else { return nil }
            return try await client.patch(write.name, finalizerPatch.serialized(), type: .merge, options: options)
        }
    }
}
