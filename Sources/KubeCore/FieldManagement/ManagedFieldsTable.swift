/// The managed fields of one object, one entry per manager identity, read
/// from and written back to `metadata.managedFields`.
struct ManagedFieldsTable: Sendable {
    private(set) var entries: [ManagedFieldsEntry] = []

    init() {}

    /// Later entries with the same identity replace earlier ones, as decoding
    /// into kube-apiserver's manager map does.
    init(_ list: [ManagedFieldsEntry]) {
        for entry in list { self[entry.identity] = entry }
    }

    /// The entries of a `managedFields` value, or nil when any entry cannot be used.
    static func decode(_ value: JSON?) -> ManagedFieldsTable? {
        switch value {
        case nil, .null?:
            return ManagedFieldsTable()
        case .array(let items)?:
            var list: [ManagedFieldsEntry] = []
            for (i, item) in items.enumerated() {
                guard let entry = try? ManagedFieldsEntry(json: item, index: i) else { return nil }
                list.append(entry)
            }
            return ManagedFieldsTable(list)
        default:
            return nil
        }
    }

    /// The entries stored on an object; unreadable ones count as none.
    static func stored(in object: JSON?) -> ManagedFieldsTable {
        decode(object?[path: ["metadata", "managedFields"]]) ?? ManagedFieldsTable()
    }

    var isEmpty: Bool { entries.isEmpty }

    subscript(identity: ManagerIdentity) -> ManagedFieldsEntry? {
        get { entries.first { $0.identity == identity } }
        set {
            let index = entries.firstIndex { $0.identity == identity }
            switch (index, newValue) {
            case (let i?, let entry?): entries[i] = entry
            case (let i?, nil): entries.remove(at: i)
            case (nil, let entry?): entries.append(entry)
            case (nil, nil): break
            }
        }
    }

    /// Applies `change` to the field set of every entry but `except`.
    mutating func updateFields(except identity: ManagerIdentity?, _ change: (inout FieldSet) -> Void) {
        for i in entries.indices where entries[i].identity != identity { change(&entries[i].fields) }
    }

    /// Entries that own nothing are dropped on every write.
    mutating func removeEmpty() {
        entries.removeAll { $0.fields.isEmpty }
    }

    /// The object with its `managedFields` replaced by these entries, in the
    /// order kube-apiserver writes them: Apply before Update, then oldest
    /// first, then by manager, API version and subresource. No entries, no field.
    func written(into object: JSON) -> JSON {
        var object = object
        let sorted = entries.sorted(by: Self.precedes)
        object[path: ["metadata", "managedFields"]] = sorted.isEmpty ? nil : .array(sorted.map(\.json))
        return object
    }

    static func precedes(_ p: ManagedFieldsEntry, _ q: ManagedFieldsEntry) -> Bool {
        if p.operation != q.operation { return p.operation.rawValue < q.operation.rawValue }
        let (ps, qs) = (ManagedFieldsTime.seconds(p.time), ManagedFieldsTime.seconds(q.time))
        if ps != qs { return ps < qs }
        if p.manager != q.manager { return p.manager < q.manager }
        if p.apiVersion != q.apiVersion { return p.apiVersion < q.apiVersion }
        return (p.subresource ?? "") < (q.subresource ?? "")
    }
}
