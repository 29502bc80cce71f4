/// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`).
///
/// Like a JSON merge patch, but lists are merged according to the object's
/// schema instead of always being replaced: keyed lists (`.map(keys:)`) merge
/// element by element on their first key (the `patchMergeKey`), sets take the
/// union, atomic lists are replaced. Directives in the patch (`$patch`,
/// `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) say
/// what the plain merge cannot; they steer the merge and never appear in the
/// result.
///
/// Element order follows the API server: the order of the patch list (or of
/// `$setElementOrder`) wins for the elements it names, and elements only the
/// stored list has keep their place relative to them. So a new element that
/// the patch does not place comes before the untouched ones, as `kubectl
/// patch` users see it.
public enum StrategicMergePatch {
    public static func apply(_ patch: JSON, to document: JSON, schema: ObjectSchema) throws(PatchError) -> JSON {
        guard case .object(let members) = patch else {
            throw .malformed("a strategic merge patch must be a JSON object, got \(patch.typeName)")
        }
        let merged = try StrategicMerger(schema: schema).mergeObject(document.objectValue ?? [:], members, at: .root)
        // `$patch: delete` at the top level leaves an empty object, as the API server does.
        return .object(merged ?? [:])
    }
}

/// Where a strategic merge is working, twice over: the schema path (field
/// names only, list elements add nothing, as `ObjectSchema` expects) and a
/// readable path for messages that names list elements by their merge key,
/// e.g. `spec.template.spec.containers[name="app"].env`.
struct MergeLocation: Sendable, CustomStringConvertible {
    var schemaPath: [String]
    var display: String

    static let root = MergeLocation(schemaPath: [], display: "")

    func field(_ name: String) -> MergeLocation {
        MergeLocation(schemaPath: schemaPath + [name], display: display.isEmpty ? name : "\(display).\(name)")
    }

    func element(key: String, value: JSON) -> MergeLocation {
        MergeLocation(schemaPath: schemaPath, display: "\(display)[\(key)=\(value.serializedString())]")
    }

    var description: String { display.isEmpty ? "top level" : display }
}
