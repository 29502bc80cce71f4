/// How the elements of a list are identified when two versions of it are merged.
///
/// These are Kubernetes' list types (`x-kubernetes-list-type`) and, for the
/// built-in kinds, the `patchMergeKey` of strategic merge patch.
public enum ListType: Sendable, Hashable {
    /// The list is one value: a patch or an apply replaces it whole.
    case atomic
    /// A list of scalars where each value appears once; merging takes the union.
    case set
    /// A list of objects identified by the values of `keys`. Strategic merge
    /// patch uses the first key as its merge key.
    case map(keys: [String])
}

/// The merge structure of one kind: which lists are sets or keyed maps.
///
/// Paths are field names from the object root; list elements add no segment,
/// so the containers of a Deployment are at `["spec", "template", "spec", "containers"]`
/// and their ports at `["spec", "template", "spec", "containers", "ports"]`.
/// Any list not named here is atomic.
public struct ObjectSchema: Sendable, Hashable {
    public var lists: [[String]: ListType]

    public init(lists: [[String]: ListType] = [:]) {
        self.lists = lists.merging(ObjectSchema.metadataLists, uniquingKeysWith: { mine, _ in mine })
    }

    public func listType(at path: [String]) -> ListType {
        lists[path] ?? .atomic
    }

    /// Lists every object has in `metadata`.
    static let metadataLists: [[String]: ListType] = [
        ["metadata", "finalizers"]: .set,
        ["metadata", "ownerReferences"]: .map(keys: ["uid"]),
        ["metadata", "managedFields"]: .atomic,
    ]

    /// A schema with only the metadata lists: what an unknown kind gets.
    public static let generic = ObjectSchema()
}

extension ObjectSchema {
    /// The lists of a pod spec, relative to the spec.
    static let podSpecLists: [[String]: ListType] = {
        var lists: [[String]: ListType] = [
            ["volumes"]: .map(keys: ["name"]),
            ["imagePullSecrets"]: .map(keys: ["name"]),
            ["tolerations"]: .atomic,
            ["hostAliases"]: .map(keys: ["ip"]),
        ]
        for containers in ["containers", "initContainers", "ephemeralContainers"] {
            lists[[containers]] = .map(keys: ["name"])
            lists[[containers, "ports"]] = .map(keys: ["containerPort", "protocol"])
            lists[[containers, "env"]] = .map(keys: ["name"])
            lists[[containers, "volumeMounts"]] = .map(keys: ["mountPath"])
            lists[[containers, "volumeDevices"]] = .map(keys: ["devicePath"])
        }
        return lists
    }()

    static func prefixed(_ prefix: [String], _ lists: [[String]: ListType]) -> [[String]: ListType] {
        Dictionary(uniqueKeysWithValues: lists.map { (prefix + $0.key, $0.value) })
    }

    /// The merge structure of a built-in kind, by API group and kind.
    public static func builtin(group: String, kind: String) -> ObjectSchema {
        switch (group, kind) {
        case ("", "Pod"):
            return ObjectSchema(lists: prefixed(["spec"], podSpecLists).merging([
                ["status", "conditions"]: .map(keys: ["type"]),
                ["status", "containerStatuses"]: .atomic,
            ], uniquingKeysWith: { a, _ in a }))
        case ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("batch", "Job"):
            return ObjectSchema(lists: prefixed(["spec", "template", "spec"], podSpecLists).merging([
                ["status", "conditions"]: .map(keys: ["type"]),
            ], uniquingKeysWith: { a, _ in a }))
        case ("", "Service"):
            return ObjectSchema(lists: [
                ["spec", "ports"]: .map(keys: ["port", "protocol"]),
                ["spec", "clusterIPs"]: .atomic,
                ["spec", "externalIPs"]: .atomic,
                ["status", "conditions"]: .map(keys: ["type"]),
            ])
        case ("", "ServiceAccount"):
            return ObjectSchema(lists: [
                ["secrets"]: .map(keys: ["name"]),
                ["imagePullSecrets"]: .map(keys: ["name"]),
            ])
        case ("", "Namespace"):
            return ObjectSchema(lists: [
                ["spec", "finalizers"]: .set,
                ["status", "conditions"]: .map(keys: ["type"]),
            ])
        case ("apiextensions.k8s.io", "CustomResourceDefinition"):
            return ObjectSchema(lists: [
                ["spec", "versions"]: .map(keys: ["name"]),
                ["status", "conditions"]: .map(keys: ["type"]),
            ])
        default:
            return .generic
        }
    }
}
