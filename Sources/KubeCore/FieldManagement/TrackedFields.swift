/// The parts of an object that field management looks at.
///
/// The server owns the type and identity fields and the bookkeeping in
/// `metadata`; nobody can own them, so they never appear in a field set, in
/// a comparison, or among the fields apply may remove. Everything else in
/// `metadata` (labels, annotations, finalizers, ownerReferences, …) is
/// tracked like any other field.
enum TrackedFields {
    static let untrackedTopLevel: Set<String> = ["apiVersion", "kind"]

    static let untrackedMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields",
        // Long gone from the API, still stripped by kube-apiserver.
        "clusterName",
    ]

    /// The tracked members of an object root, by field-name path
    /// (`["spec"]`, `["metadata", "labels"]`). `metadata` is never a member
    /// itself: only its tracked fields are.
    static func members(of root: JSON?) -> [[String]: JSON] {
        guard case .object(let top)? = root else { return [:] }
        var out: [[String]: JSON] = [:]
        for (key, value) in top where !untrackedTopLevel.contains(key) {
            if key == "metadata" {
                for (name, field) in value.objectValue ?? [:] where !untrackedMetadata.contains(name) {
                    out[["metadata", name]] = field
                }
            } else {
                out[[key]] = value
            }
        }
        return out
    }

    /// Whether removing the node at `path` would remove something the server owns.
    static func isProtected(_ path: FieldPath) -> Bool {
        path == FieldPath(fields: "metadata")
    }
}
