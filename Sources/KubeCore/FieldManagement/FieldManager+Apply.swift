extension FieldManager {
    /// Server-side apply of `applied` (the manager's whole configuration for
    /// the object) to `current` (nil to create).
    ///
    /// 1. The configuration is merged into the live object (`ApplyMerge`).
    /// 2. What this manager applied last time and no longer applies is
    ///    removed if no manager owns it any more (`ApplyPruning`).
    /// 3. Fields other managers own that the result changes are conflicts:
    ///    thrown unless `force`, in which case those managers lose them. The
    ///    same value is never a conflict, so appliers that agree share fields.
    ///    For the manager `kubectl`, conflicts on fields recorded unchanged in
    ///    the client-side-apply annotation are forgiven, so moving from
    ///    `kubectl apply` to `kubectl apply --server-side` works.
    /// 4. The manager's Apply entry (for this subresource) becomes exactly the
    ///    applied field set, in `apiVersion`; its time moves only when the
    ///    object changed. Removed fields leave every manager; empty entries go.
    ///
    /// Returns the merged object with `managedFields` written. For `kubectl`
    /// an existing last-applied annotation is rewritten to the configuration.
    public static func apply(current: JSON?, applied: JSON, manager: String, force: Bool, apiVersion: String,
                             subresource: String?, schema: ObjectSchema, time: String) throws(ApplyConflictError) -> JSON {
        let name = managerName(manager)
        let writer = ManagerIdentity(manager: name, operation: .apply, apiVersion: apiVersion, subresource: subresource)
        var config = applied
        config[path: managedFieldsPath] = nil
        let live = current ?? .emptyObject
        var table = ManagedFieldsTable.stored(in: current)
        let previous = table[writer]

        var entry = ManagedFieldsEntry(manager: name, operation: .apply, apiVersion: apiVersion, time: previous?.time,
                                       subresource: subresource, fields: FieldSet(of: config, schema: schema))
        table[writer] = entry
        var merged = ApplyMerge.merge(live, config, schema: schema)
        if let lastApplied = previous?.fields, !lastApplied.isEmpty {
            let owned = table.entries.reduce(into: FieldSet()) { $0.formUnion($1.fields) }
            merged = ApplyPruning.removing(ApplyPruning.paths(lastApplied: lastApplied, owned: owned), from: merged, schema: schema)
            // Pruning can take out an empty list or object the configuration
            // itself sets (`env: []` after `env: [A]`); merging the configuration
            // again puts those back, so that applying twice changes nothing.
            merged = ApplyMerge.merge(merged, config, schema: schema)
        }

        let changes = FieldChanges(from: current, to: merged, schema: schema)
        let conflicts = conflicts(in: table, with: changes, writer: writer)
        if !conflicts.isEmpty && !force {
            let forgiven = name == LastAppliedConfiguration.kubectl
                ? LastAppliedConfiguration.forgivenConflicts(live: current, apiVersion: apiVersion, schema: schema) : nil
            let remaining = conflicts.map { ($0.identity, $0.fields.subtracting(forgiven ?? FieldSet())) }.filter { !$0.1.isEmpty }
            if !remaining.isEmpty { throw ApplyConflictError(owners: remaining) }
        }
        transferOwnership(&table, changes: changes, writer: writer)

        if !merged.isEquivalent(to: live) { entry.time = time }
        entry.fields = table[writer]?.fields ?? FieldSet()
        table[writer] = entry
        table.removeEmpty()
        var result = table.written(into: merged)
        if name == LastAppliedConfiguration.kubectl {
            result = LastAppliedConfiguration.recording(config, in: result)
        }
        return result
    }
}
