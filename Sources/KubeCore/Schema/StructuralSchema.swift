/// A CRD version's `openAPIV3Schema`, used as kube-apiserver uses it for
/// custom resources: checked when the CRD is written, then used to validate,
/// prune and default every object of that version, and to tell server-side
/// apply and patches which lists are sets or keyed maps.
public struct StructuralSchema: Sendable {
    /// Why a CRD schema is not acceptable: one cause per problem, with paths
    /// inside the CRD (`spec.versions[0].schema.openAPIV3Schema.properties[spec].type`).
    public struct InvalidSchema: Error, Sendable, CustomStringConvertible {
        public var causes: [FieldCause]
        public var description: String { causes.map(\.description).joined(separator: ", ") }
    }

    public let root: SchemaNode

    /// Reads and checks a schema; `fieldPath` is where it sits in the CRD.
    public init(json: JSON, fieldPath: String = "openAPIV3Schema") throws(InvalidSchema) {
        var causes: [FieldCause] = []
        root = SchemaNode(json, path: fieldPath, problems: &causes)
        causes += SchemaRules.check(root, path: fieldPath)
        if !causes.isEmpty { throw InvalidSchema(causes: causes) }
    }

    /// Every problem of an object against the schema, as a create or update
    /// of the custom resource reports them (after pruning and defaulting):
    /// schema violations (`spec.replicas: Invalid value: "string": spec.replicas
    /// in body must be of type integer: "string"`), then embedded-resource
    /// metadata, then repeated elements of `set` and `map` lists.
    /// The object's own `metadata` is left to `NameValidation.validateObjectMeta`.
    public func validate(_ object: JSON) -> [FieldCause] {
        var validator = SchemaValueValidator(base: nil)
        validator.validate(object, root, name: "")
        var causes = validator.causes
        SchemaResourceChecks.embeddedResources(object, root, path: "", into: &causes)
        SchemaResourceChecks.lists(object, root, path: "", into: &causes)
        return causes
    }

    /// The object without the fields the schema does not specify.
    public func prune(_ object: JSON) -> JSON {
        var pruner = SchemaPruner()
        return pruner.prune(object, root, isResource: true)
    }

    /// Sorted dotted paths of the fields `prune` would drop, for
    /// `fieldValidation=Strict` (`unknown field "spec.bogus"`).
    public func unknownFields(_ object: JSON) -> [String] {
        var pruner = SchemaPruner()
        _ = pruner.prune(object, root, isResource: true)
        return pruner.dropped.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Absent fields with a `default` filled in, recursively; nulls the schema
    /// does not allow replaced by the default or removed.
    public func applyDefaults(_ object: JSON) -> JSON {
        SchemaDefaulter.apply(object, root)
    }

    /// The list types the schema declares, for patches and server-side apply.
    /// Paths are field names from the root; list elements add no segment.
    public func objectSchema() -> ObjectSchema {
        var lists: [[String]: ListType] = [:]
        Self.collectLists(root, path: [], into: &lists)
        return ObjectSchema(lists: lists)
    }

    static func collectLists(_ node: SchemaNode, path: [String], into lists: inout [[String]: ListType]) {
        switch node.listType {
        case "set": lists[path] = lists[path] ?? .set
        case "map": lists[path] = lists[path] ?? .map(keys: node.listMapKeys)
        default: break
        }
        if let items = node.items { collectLists(items, path: path, into: &lists) }
        for (name, property) in node.properties { collectLists(property, path: path + [name], into: &lists) }
    }
}
