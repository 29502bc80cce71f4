import KubeCore

/// Where an object lives inside its resource: namespace ("" when cluster scoped) and name.
/// Ordered as etcd orders keys, which is the order of list results.
struct ObjectKey: Hashable, Comparable, Sendable {
    var namespace: String
    var name: String

    static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        a.namespace != b.namespace ? a.namespace < b.namespace : a.name < b.name
    }

    /// The form used in continue tokens.
    var tokenForm: String { namespace + "/" + name }

    init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// The key of a continue token; names and namespaces cannot hold "/".
    init(tokenForm: String) {
        let parts = tokenForm.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        self.init(namespace: parts.count == 2 ? String(parts[0]) : "", name: String(parts.last ?? ""))
    }
}

/// One stored object: the full JSON tree, its serialized bytes (what list and
/// watch send), and the metadata selection needs.
struct StoredObject: Sendable {
    var object: JSON
    var bytes: [UInt8]
    var key: ObjectKey
    var labels: [String: String]
    var resourceVersion: UInt64
    var uid: String

    init(_ object: JSON, resourceVersion: UInt64) {
        self.object = object
        self.bytes = object.serialized()
        self.key = ObjectKey(namespace: object[path: ["metadata", "namespace"]]?.stringValue ?? "",
                             name: object[path: ["metadata", "name"]]?.stringValue ?? "")
        var labels: [String: String] = [:]
        for (k, v) in object[path: ["metadata", "labels"]]?.objectValue ?? [:] {
            if let s = v.stringValue { labels[k] = s }
        }
        self.labels = labels
        self.resourceVersion = resourceVersion
        self.uid = object[path: ["metadata", "uid"]]?.stringValue ?? ""
    }

    var metadata: JSON { object["metadata"] ?? .emptyObject }
    var finalizers: [String] { object[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    var isBeingDeleted: Bool { object[path: ["metadata", "deletionTimestamp"]] != nil }
    var ownerReferences: [JSON] { object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? [] }

    /// Whether the label and field selectors (empty: everything) select this object.
    func matches(labels: LabelSelector, fields: FieldSelector) -> Bool {
        (labels.isEmpty || labels.matches(self.labels)) && (fields.isEmpty || fields.matches { fieldValue($0) })
    }

    /// The value of a selectable field, as field selectors compare it.
    func fieldValue(_ field: String) -> String? {
        switch field {
        case "metadata.name": return key.name
        case "metadata.namespace": return key.namespace
        default:
            guard let value = object[path: field.split(separator: ".").map(String.init)] else { return "" }
            switch value {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .bool(let b): return String(b)
            case .null: return ""
            default: return value.serializedString()
            }
        }
    }
}
