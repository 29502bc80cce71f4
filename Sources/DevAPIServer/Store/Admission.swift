import Foundation
import KubeCore

/// What the API server does to an object before storing it: set the fields
/// the server owns, apply defaults, keep status and spec apart, and validate.
enum Admission {
    /// Fields the server sets on create. The object is converted to the storage version.
    static func prepareCreate(_ object: JSON, info: ResourceInfo, version: String, state: inout ObjectStore.State) -> JSON {
        var object = object
        object["apiVersion"] = .string(info.apiVersion(info.storageVersion))
        object["kind"] = .string(info.kind)
        var metadata = object["metadata"]?.objectValue ?? [:]
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(Timestamp.now())
        metadata["deletionTimestamp"] = nil
        metadata["deletionGracePeriodSeconds"] = nil
        metadata["selfLink"] = nil
        metadata["resourceVersion"] = nil
        if info.tracksGeneration { metadata["generation"] = 1 } else { metadata["generation"] = nil }
        if !info.namespaced { metadata["namespace"] = nil }
        object["metadata"] = .object(metadata)
        if info.hasStatus && info.groupResource != GroupResource(group: "", resource: "namespaces") {
            object["status"] = nil
        }
        return applyDefaults(object, info: info, isCreate: true, state: &state)
    }

    /// Server-side defaults for the built-in kinds that clients depend on.
    static func applyDefaults(_ object: JSON, info: ResourceInfo, isCreate: Bool, state: inout ObjectStore.State) -> JSON {
        var object = object
        switch (info.group, info.kind) {
        case ("", "Namespace"):
            let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
            object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
            if isCreate {
                object[path: ["spec", "finalizers"]] = ["kubernetes"]
                object["status"] = ["phase": "Active"]
            }
        case ("", "Secret"):
            if object["type"] == nil { object["type"] = "Opaque" }
            if let stringData = object["stringData"]?.objectValue {
                for (key, value) in stringData {
                    if let s = value.stringValue { object[path: ["data", key]] = .string(Base64.encode(Array(s.utf8))) }
                }
                object["stringData"] = nil
            }
        case ("", "Service"):
            if object[path: ["spec", "type"]] == nil { object[path: ["spec", "type"]] = "ClusterIP" }
            if object[path: ["spec", "sessionAffinity"]] == nil { object[path: ["spec", "sessionAffinity"]] = "None" }
            if var ports = object[path: ["spec", "ports"]]?.arrayValue {
                for i in ports.indices {
                    if ports[i]["protocol"] == nil { ports[i]["protocol"] = "TCP" }
                    if ports[i]["targetPort"] == nil, let port = ports[i]["port"] { ports[i]["targetPort"] = port }
                }
                object[path: ["spec", "ports"]] = .array(ports)
            }
            if isCreate, object[path: ["spec", "type"]]?.stringValue != "ExternalName", object[path: ["spec", "clusterIP"]] == nil {
                state.serviceIPs += 1
                let ip = "10.96.\(state.serviceIPs / 256 % 256).\(state.serviceIPs % 256)"
                object[path: ["spec", "clusterIP"]] = .string(ip)
                object[path: ["spec", "clusterIPs"]] = [.string(ip)]
            }
            if isCreate && object["status"] == nil { object["status"] = ["loadBalancer": [:]] }
        case ("", "Pod"):
            object["spec"] = defaultPodSpec(object["spec"])
            if isCreate && object["status"] == nil { object["status"] = ["phase": "Pending"] }
        case ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"):
            if object[path: ["spec", "replicas"]] == nil { object[path: ["spec", "replicas"]] = 1 }
            if let template = object[path: ["spec", "template", "spec"]] {
                object[path: ["spec", "template", "spec"]] = defaultPodSpec(template)
            }
        case ("batch", "Job"):
            if let template = object[path: ["spec", "template", "spec"]] {
                object[path: ["spec", "template", "spec"]] = defaultPodSpec(template)
            }
        default:
            break
        }
        return object
    }

    /// Container port protocols default to TCP: they are part of the port's identity
    /// for server-side apply, so they must be present.
    static func defaultPodSpec(_ spec: JSON?) -> JSON? {
        guard var spec else { return nil }
        for field in ["containers", "initContainers"] {
            guard var containers = spec[field]?.arrayValue else { continue }
            for c in containers.indices {
                guard var ports = containers[c]["ports"]?.arrayValue else { continue }
                for p in ports.indices where ports[p]["protocol"] == nil { ports[p]["protocol"] = "TCP" }
                containers[c]["ports"] = .array(ports)
            }
            spec[field] = .array(containers)
        }
        return spec
    }

    /// Merges an update into the current object as the resource's strategy does:
    /// a write to the main resource keeps the current status, a write to `/status`
    /// keeps everything but the status, and the server-owned metadata never changes.
    static func prepareUpdate(_ new: JSON, current: StoredObject, info: ResourceInfo, subresource: String?, state: inout ObjectStore.State) -> JSON {
        var new = new
        let old = current.object
        if subresource == "status" {
            var merged = old
            merged["status"] = new["status"]
            // Status writers may still add or remove managed fields through the field manager.
            merged[path: ["metadata", "managedFields"]] = new[path: ["metadata", "managedFields"]]
            new = merged
        } else if info.hasStatus {
            new["status"] = old["status"]
        }
        new["apiVersion"] = .string(info.apiVersion(info.storageVersion))
        new["kind"] = .string(info.kind)
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "name", "generation"] {
            new[path: ["metadata", field]] = old[path: ["metadata", field]]
        }
        new[path: ["metadata", "selfLink"]] = nil
        new[path: ["metadata", "resourceVersion"]] = old[path: ["metadata", "resourceVersion"]]
        if info.tracksGeneration && specChanged(old, new) {
            let generation = old[path: ["metadata", "generation"]]?.intValue ?? 0
            new[path: ["metadata", "generation"]] = .int(generation + 1)
        }
        return applyDefaults(new, info: info, isCreate: false, state: &state)
    }

    /// Whether anything outside `metadata` and `status` differs.
    static func specChanged(_ a: JSON, _ b: JSON) -> Bool {
        var a = a
        var b = b
        for key in ["metadata", "status", "apiVersion", "kind"] {
            a[key] = nil
            b[key] = nil
        }
        return a != b
    }
}
