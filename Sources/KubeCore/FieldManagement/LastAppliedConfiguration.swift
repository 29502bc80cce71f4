/// Interplay with client-side `kubectl apply`, which records its
/// configuration in an annotation instead of in managedFields.
///
/// kube-apiserver does two things for the manager `kubectl` so that a user
/// can switch between `kubectl apply` and `kubectl apply --server-side`:
/// conflicts on fields the annotation shows kubectl applied (and that still
/// hold those values) are forgiven, and after a server-side apply an
/// existing annotation is rewritten to the new configuration, so that a later
/// client-side apply diffs against what was really applied last.
enum LastAppliedConfiguration {
    static let annotation = "kubectl.kubernetes.io/last-applied-configuration"
    /// The manager name kubectl uses for server-side apply.
    static let kubectl = "kubectl"
    /// All annotations of an object together may not exceed this many bytes;
    /// the annotation is dropped rather than make the object invalid.
    static let maxAnnotationsSize = 256 * 1024

    /// The fields whose conflicts are forgiven: those of the recorded
    /// configuration that the live object still has with the recorded value.
    /// Nil when there is no usable annotation for this API version.
    static func forgivenConflicts(live: JSON?, apiVersion: String, schema: ObjectSchema) -> FieldSet? {
        guard let live, let text = live[path: ["metadata", "annotations", annotation]]?.stringValue, !text.isEmpty,
              let recorded = try? JSON.parse(text), case .object = recorded,
              recorded["apiVersion"]?.stringValue == apiVersion
        else { return nil }
        let drift = FieldChanges(from: recorded, to: live, schema: schema)
        return FieldSet(of: recorded, schema: schema).subtracting(drift.modified).subtracting(drift.added).subtracting(drift.removed)
    }

    /// `object` with an existing, non-empty annotation replaced by the
    /// applied configuration, encoded as kubectl encodes it (compact JSON,
    /// sorted keys, trailing newline) and without the annotation itself.
    static func recording(_ config: JSON, in object: JSON) -> JSON {
        guard var annotations = object[path: ["metadata", "annotations"]]?.objectValue,
              annotations[annotation]?.stringValue?.isEmpty == false
        else { return object }
        var recorded = config
        if recorded[path: ["metadata", "annotations"]]?.objectValue != nil {
            recorded[path: ["metadata", "annotations", annotation]] = nil
        }
        annotations[annotation] = .string(recorded.serializedString() + "\n")
        let size = annotations.reduce(0) { $0 + $1.key.utf8.count + ($1.value.stringValue?.utf8.count ?? 0) }
        if size > maxAnnotationsSize { annotations[annotation] = nil }
        var object = object
        object[path: ["metadata", "annotations"]] = .object(annotations)
        return object
    }
}
