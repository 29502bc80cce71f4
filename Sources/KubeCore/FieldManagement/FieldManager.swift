/// Keeps `metadata.managedFields` the way kube-apiserver does.
///
/// Every write records who set which fields. Creates, updates and
/// non-apply patches go through `update(old:new:…)`: the fields the write
/// changed become the writer's (an Update entry) and leave everyone else.
/// Server-side apply goes through `apply(current:applied:…)`: the applied
/// configuration is merged in, fields the applier stopped applying are
/// removed when nobody else owns them, and changing a field another manager
/// owns is a conflict unless forced.
///
/// Both take and return plain JSON objects; the caller (the dev API server)
/// checks identity, resets status or spec per subresource, defaults and
/// validates, and assigns resourceVersion.
public enum FieldManager {
    static let managedFieldsPath = ["metadata", "managedFields"]

    /// Requests that name no field manager are recorded as "unknown", as
    /// kube-apiserver does when neither the request nor its caller supplies one.
    static func managerName(_ name: String) -> String {
        name.isEmpty ? "unknown" : name
    }

    /// The fields of other managers a write would change: for each manager
    /// (but `writer`), what it owns that the write added or modified.
    static func conflicts(in table: ManagedFieldsTable, with changes: FieldChanges,
                          writer: ManagerIdentity) -> [(identity: ManagerIdentity, fields: FieldSet)] {
        let changed = changes.changed
        return table.entries.compactMap { entry in
            guard entry.identity != writer else { return nil }
            let overlap = entry.fields.intersection(changed)
            return overlap.isEmpty ? nil : (entry.identity, overlap)
        }
    }

    /// Moves ownership after a write: what the write set leaves every other
    /// manager, what it removed leaves every manager (the writer included,
    /// since a removed field cannot be owned).
    static func transferOwnership(_ table: inout ManagedFieldsTable, changes: FieldChanges, writer: ManagerIdentity) {
        let changed = changes.changed
        table.updateFields(except: nil) { $0.subtract(changes.removed) }
        table.updateFields(except: writer) { $0.subtract(changed) }
    }

    /// The decoded entries of an object's `managedFields`; empty when there
    /// are none or they cannot be read.
    public static func entries(of object: JSON) -> [ManagedFieldsEntry] {
        ManagedFieldsTable.stored(in: object).entries
    }
}
