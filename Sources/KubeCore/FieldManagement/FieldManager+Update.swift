extension FieldManager {
    /// Records a create (`old == nil`), update or non-apply patch.
    ///
    /// Fields whose value the write added or changed go to `manager`'s Update
    /// entry for this API version and subresource (merged with what it owned
    /// before) and leave every other manager; fields the write removed leave
    /// every manager; entries left empty are dropped. The entry's time moves
    /// only when the write changed something.
    ///
    /// The entries start from the request's own `managedFields` when it
    /// carries a usable non-empty list, which is how a client edits them;
    /// `[]` (or `[{}]`) starts from none, which is how a client clears them.
    /// Otherwise, and always for a subresource, they start from `old`'s.
    /// An unusable list (unknown operation, unreadable fieldsV1, …) is
    /// ignored, as kube-apiserver ignores it.
    ///
    /// Returns `new` with `metadata.managedFields` rewritten.
    public static func update(old: JSON?, new: JSON, manager: String, apiVersion: String, subresource: String?,
                              schema: ObjectSchema, time: String) -> JSON {
        guard case .object = new else { return new }
        var table = startingEntries(old: old, new: new, subresource: subresource)
        let changes = FieldChanges(from: old, to: new, schema: schema)
        let writer = ManagerIdentity(manager: managerName(manager), operation: .update, apiVersion: apiVersion, subresource: subresource)
        transferOwnership(&table, changes: changes, writer: writer)
        let changed = changes.changed
        if !changed.isEmpty {
            var entry = table[writer] ?? ManagedFieldsEntry(manager: writer.manager, operation: .update, apiVersion: apiVersion,
                                                            time: nil, subresource: subresource, fields: FieldSet())
            entry.fields.formUnion(changed)
            entry.time = time
            table[writer] = entry
        }
        table.removeEmpty()
        UpdateManagerCap.apply(to: &table)
        return table.written(into: new)
    }

    private static func startingEntries(old: JSON?, new: JSON, subresource: String?) -> ManagedFieldsTable {
        let live = ManagedFieldsTable.stored(in: old)
        guard subresource == nil else { return live }
        let requested = new[path: managedFieldsPath]
        if isReset(requested) { return ManagedFieldsTable() }
        if let table = ManagedFieldsTable.decode(requested), !table.isEmpty { return table }
        return live
    }

    /// `[]`, or a list holding one entry with nothing set.
    private static func isReset(_ value: JSON?) -> Bool {
        guard case .array(let items)? = value else { return false }
        guard items.count == 1 else { return items.isEmpty }
        guard case .object(let members) = items[0] else { return false }
        return members.values.allSatisfy { $0 == .null || $0 == "" }
    }
}
