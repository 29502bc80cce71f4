/// A CRD's `openAPIV3Schema`, as kube-apiserver uses it for custom resources:
/// structural checks on the CRD, then validation, pruning and defaulting of objects.
public struct StructuralSchema: Sendable {
    /// Why a CRD schema is not acceptable, one cause per problem.
    public struct InvalidSchema: Error, Sendable, CustomStringConvertible {
        public var causes: [FieldCause]
        public var description: String { causes.map(\.description).joined(separator: "; ") }
    }

    public let root: SchemaNode

    public init(json: JSON, fieldPath: String = "openAPIV3Schema") throws(InvalidSchema) {
        var causes: [FieldCause] = []
        root = SchemaNode(json, path: fieldPath, causes: &causes)
        if root.type != "object" && !root.preserveUnknownFields {
            causes.append(FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \(JSON.string(root.type ?? "").serializedString()): must be object at the root", field: fieldPath + ".type"))
        }
        if !causes.isEmpty { throw InvalidSchema(causes: causes) }
    }

    /// Every problem of an object against the schema, with paths like `spec.items[2].name`.
    public func validate(_ object: JSON) -> [FieldCause] {
        var causes: [FieldCause] = []
        guard case .object(let members) = object else { return [.typeInvalid("", object, "must be of type object")] }
        for (key, value) in members.sorted(by: { $0.key < $1.key }) where !["apiVersion", "kind", "metadata"].contains(key) {
            guard let child = root.properties[key] else { continue }
            child.validate(value, path: key, causes: &causes)
        }
        for key in root.required where members[key] == nil {
            causes.append(.required(key))
        }
        return causes
    }

    /// The object without the fields the schema does not know (kept where
    /// `x-kubernetes-preserve-unknown-fields` says so).
    public func prune(_ object: JSON) -> JSON { root.prune(object, isRoot: true) }

    /// Dotted paths of the fields `prune` would drop, for `fieldValidation=Strict`.
    public func unknownFields(_ object: JSON) -> [String] {
        var found: [String] = []
        root.collectUnknown(object, path: "", isRoot: true, into: &found)
        return found.sorted()
    }

    /// Absent fields with a `default` filled in, recursively.
    public func applyDefaults(_ object: JSON) -> JSON { root.applyDefaults(object) }

    /// The list types the schema declares, for patches and server-side apply.
    public func objectSchema() -> ObjectSchema {
        var lists: [[String]: ListType] = [:]
        root.collectLists(path: [], into: &lists)
        return ObjectSchema(lists: lists)
    }
}
