/// Keeps `metadata.managedFields` as kube-apiserver does: every write records
/// which manager set which fields; apply merges a manager's configuration and
/// removes the fields it stopped applying.
public enum FieldManager {
    static func entries(_ object: JSON?) -> [ManagedFieldsEntry] {
        (object?[path: ["metadata", "managedFields"]]?.arrayValue ?? []).enumerated().compactMap { try? ManagedFieldsEntry(json: $1, index: $0) }
    }

    /// Checks `metadata.managedFields` of a request body.
    public static func validateEntries(_ object: JSON) throws(ManagedFieldsEntry.DecodingError) {
        guard let value = object[path: ["metadata", "managedFields"]], !value.isNull else { return }
        guard let list = value.arrayValue else { throw ManagedFieldsEntry.DecodingError(message: "metadata.managedFields: must be a list") }
        for (i, entry) in list.enumerated() { _ = try ManagedFieldsEntry(json: entry, index: i) }
    }

    static func write(_ entries: [ManagedFieldsEntry], into object: JSON) -> JSON {
        var object = object
        let kept = entries.filter { !$0.fields.isEmpty }
        object[path: ["metadata", "managedFields"]] = kept.isEmpty ? nil : .array(kept.map(\.json))
        return object
    }

    /// Records a create, update or non-apply patch: fields whose value changed
    /// go to `manager`'s Update entry and leave everyone else's.
    public static func update(old: JSON?, new: JSON, manager: String, apiVersion: String, subresource: String?, schema: ObjectSchema, time: String) -> JSON {
        let oldEntriesJSON = old?[path: ["metadata", "managedFields"]]
        let newEntriesJSON = new[path: ["metadata", "managedFields"]]
        if let newEntriesJSON, newEntriesJSON != oldEntriesJSON ?? .null {
            // The client set managedFields itself: honoured as given; [] clears them.
            if newEntriesJSON.arrayValue?.isEmpty == true {
                var cleared = new
                cleared[path: ["metadata", "managedFields"]] = nil
                return cleared
            }
            return new
        }
        var entries = entries(old)
        let newPaths = ObjectFields.paths(of: new, schema: schema)
        let oldPaths = old.map { ObjectFields.paths(of: $0, schema: schema) } ?? []
        var changed = Set<FieldPath>()
        for path in newPaths where !oldPaths.contains(path) || ObjectFields.value(at: path, in: new) != old.flatMap({ ObjectFields.value(at: path, in: $0) }) {
            changed.insert(path)
        }
        let removed = oldPaths.subtracting(newPaths)
        for i in entries.indices {
            entries[i].fields.paths.subtract(removed)
            entries[i].fields.paths.subtract(changed)
        }
        if !changed.isEmpty {
            if let i = entries.firstIndex(where: { $0.sameOwner(manager: manager, operation: .update, apiVersion: apiVersion, subresource: subresource) }) {
                entries[i].fields.paths.formUnion(changed)
                entries[i].time = time
            } else {
                entries.append(ManagedFieldsEntry(manager: manager, operation: .update, apiVersion: apiVersion, time: time,
                                                  subresource: subresource, fields: FieldSet(changed)))
            }
        }
        return write(entries, into: new)
    }

    /// Server-side apply of `applied` (the manager's whole configuration) to `current`.
    public static func apply(current: JSON?, applied: JSON, manager: String, force: Bool, apiVersion: String, subresource: String?,
                             schema: ObjectSchema, time: String) throws(ApplyConflictError) -> JSON
    {
        var entries = entries(current)
        let appliedPaths = ObjectFields.paths(of: applied, schema: schema)
        var conflicts: [ApplyConflictError.Conflict] = []
        var taken: [Int: Set<FieldPath>] = [:]
        for (i, entry) in entries.enumerated() where !entry.sameOwner(manager: manager, operation: .apply, apiVersion: apiVersion, subresource: subresource) {
            for path in entry.fields.paths.intersection(appliedPaths).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let currentValue = current.flatMap { ObjectFields.value(at: path, in: $0) }
                let appliedValue = ObjectFields.value(at: path, in: applied)
                guard isLeaf(appliedValue), currentValue != appliedValue else { continue }
                conflicts.append(.init(manager: entry.manager, apiVersion: entry.apiVersion, field: FieldSet.render(path)))
                taken[i, default: []].insert(path)
            }
        }
        if !conflicts.isEmpty && !force { throw ApplyConflictError(conflicts: conflicts) }
        for (i, paths) in taken { entries[i].fields.paths.subtract(paths) }

        var merged = ObjectFields.merge(current ?? .emptyObject, applied, schemaPath: [], schema: schema)
        let mine = entries.firstIndex { $0.sameOwner(manager: manager, operation: .apply, apiVersion: apiVersion, subresource: subresource) }
        let previous = mine.map { entries[$0].fields.paths } ?? []
        var ownedByOthers = Set<FieldPath>()
        for (i, entry) in entries.enumerated() where i != mine { ownedByOthers.formUnion(entry.fields.paths) }
        // Longest first, so that removing an element does not shift what is removed after it.
        for path in previous.subtracting(appliedPaths).subtracting(ownedByOthers).sorted(by: { $0.count > $1.count }) {
            if case .key = path.last, ownedByOthers.contains(where: { $0.count > path.count && Array($0.prefix(path.count)) == path }) { continue }
            merged = ObjectFields.removing(path, from: merged)
        }
        let entry = ManagedFieldsEntry(manager: manager, operation: .apply, apiVersion: apiVersion, time: time, subresource: subresource,
                                       fields: FieldSet(appliedPaths))
        if let mine { entries[mine] = entry } else { entries.append(entry) }
        return write(entries, into: merged)
    }

    private static func isLeaf(_ value: JSON?) -> Bool {
        switch value {
        case .object?: return false
        case nil: return false
        default: return true
        }
    }
}
