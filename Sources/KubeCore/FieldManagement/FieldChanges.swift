/// What a write changed, field by field, as structured-merge-diff compares
/// two versions of an object.
///
/// Leaves (scalars, atomic lists, empty objects and lists) are added,
/// removed or modified. A map, keyed element or non-atomic list is itself
/// added or removed when it appears or disappears, which is why an updater's
/// entry carries `".": {}` on the labels map or container it created; it is
/// never "modified", only its members are.
struct FieldChanges: Sendable, Equatable {
    var added = FieldSet()
    var modified = FieldSet()
    var removed = FieldSet()

    /// The fields the write set: ownership of these moves to the writer.
    var changed: FieldSet { added.union(modified) }

    init() {}

    /// Compares two objects (`old == nil` for a create) over the tracked fields.
    init(from old: JSON?, to new: JSON?, schema: ObjectSchema) {
        let before = TrackedFields.members(of: old)
        let after = TrackedFields.members(of: new)
        for schemaPath in Set(before.keys).union(after.keys) {
            let path = FieldPath(schemaPath.map(FieldPathElement.field))
            compare(before[schemaPath], after[schemaPath], at: path, schemaPath: schemaPath, schema: schema)
        }
    }

    private enum Shape: Equatable {
        case leaf, map, list
    }

    private static func shape(_ value: JSON?, _ listType: ListType) -> Shape? {
        switch value {
        case nil: return nil
        case .object?: return .map
        case .array?: if case .atomic = listType { return .leaf } else { return .list }
        default: return .leaf
        }
    }

    private static func isEmptyContainer(_ value: JSON?) -> Bool {
        switch value {
        case nil: return true
        case .object(let members)?: return members.isEmpty
        case .array(let items)?: return items.isEmpty
        default: return false
        }
    }

    private mutating func compare(_ old: JSON?, _ new: JSON?, at path: FieldPath, schemaPath: [String], schema: ObjectSchema) {
        let listType = schema.listType(at: schemaPath)
        let (oldShape, newShape) = (Self.shape(old, listType), Self.shape(new, listType))
        let shape = newShape ?? oldShape ?? .leaf
        // Both sides empty or absent: compared as one value, so that `{}` and
        // `[]` can be owned and `null` vs `{}` is a change.
        let emptyOnBothSides = shape != .leaf && Self.isEmptyContainer(old) && Self.isEmptyContainer(new)
        if shape == .leaf || emptyOnBothSides || (oldShape != nil && newShape != nil && oldShape != newShape) {
            compareLeaf(old, new, at: path, schemaPath: schemaPath, schema: schema, oldShape: oldShape, newShape: newShape)
            return
        }
        compareChildren(old, new, shape: shape, at: path, schemaPath: schemaPath, schema: schema)
        if old == nil { added.insert(path) } else if new == nil { removed.insert(path) }
    }

    /// A leaf, or a node whose shape changed (an object replaced by a string):
    /// the node is modified, whatever hung below the old shape is removed and
    /// whatever hangs below the new one is added.
    private mutating func compareLeaf(_ old: JSON?, _ new: JSON?, at path: FieldPath, schemaPath: [String], schema: ObjectSchema,
                                      oldShape: Shape?, newShape: Shape?) {
        guard let old else { added.insert(path); return }
        guard let new else { removed.insert(path); return }
        if !old.isEquivalent(to: new) { modified.insert(path) }
        guard oldShape != newShape else { return }
        if let oldShape, oldShape != .leaf {
            var below = FieldChanges()
            below.compareChildren(old, nil, shape: oldShape, at: path, schemaPath: schemaPath, schema: schema)
            removed.formUnion(below.removed)
        }
        if let newShape, newShape != .leaf {
            var below = FieldChanges()
            below.compareChildren(nil, new, shape: newShape, at: path, schemaPath: schemaPath, schema: schema)
            added.formUnion(below.added)
        }
    }

    private mutating func compareChildren(_ old: JSON?, _ new: JSON?, shape: Shape, at path: FieldPath, schemaPath: [String], schema: ObjectSchema) {
        switch shape {
        case .map:
            compareMembers(old?.objectValue ?? [:], new?.objectValue ?? [:], at: path, schemaPath: schemaPath, schema: schema)
        case .list:
            compareItems(old?.arrayValue ?? [], new?.arrayValue ?? [], listType: schema.listType(at: schemaPath),
                         at: path, schemaPath: schemaPath, schema: schema)
        case .leaf:
            break
        }
    }

    private mutating func compareMembers(_ old: [String: JSON], _ new: [String: JSON], at path: FieldPath, schemaPath: [String], schema: ObjectSchema) {
        for key in Set(old.keys).union(new.keys) {
            compare(old[key], new[key], at: path.appending(.field(key)), schemaPath: schemaPath + [key], schema: schema)
        }
    }

    private mutating func compareItems(_ old: [JSON], _ new: [JSON], listType: ListType, at path: FieldPath, schemaPath: [String], schema: ObjectSchema) {
        let before = ListElementNames.index(old, listType)
        let after = ListElementNames.index(new, listType)
        var names = before.order
        for name in after.order where before.items[name] == nil { names.append(name) }
        for name in names {
            let itemPath = path.appending(name)
            let (oldItem, newItem) = (before.items[name], after.items[name])
            if case .set = listType {
                // A set value is its own name: it can only come or go.
                if oldItem == nil { added.insert(itemPath) } else if newItem == nil { removed.insert(itemPath) }
                continue
            }
            compare(oldItem, newItem, at: itemPath, schemaPath: schemaPath, schema: schema)
        }
    }
}
