/// Removes from an object the fields a manager stopped applying.
///
/// Server-side apply removes a field, keyed element or set value when the
/// applier applied it last time, does not apply it now, and no manager
/// (appliers and updaters alike, the applier's new configuration included)
/// owns it. Intermediate fields count as owned when anything below them is,
/// so `spec.strategy` disappears as a whole only when nothing under it is
/// owned any more. A keyed element is removed with everything in it even if
/// an updater owns a field inside it: the element was the applier's.
enum ApplyPruning {
    /// The paths to remove: previously applied, now owned by nobody.
    static func paths(lastApplied: FieldSet, owned: FieldSet) -> FieldSet {
        lastApplied.withFieldAncestors.subtracting(owned.withFieldAncestors)
    }

    /// The object without the nodes at `paths` and everything below them.
    /// Objects and lists left empty by a removal go too, as they would after
    /// a round trip through the typed object (nil maps and slices are omitted).
    static func removing(_ paths: FieldSet, from object: JSON, schema: ObjectSchema) -> JSON {
        guard !paths.isEmpty else { return object }
        var below = Set<FieldPath>()
        for path in paths.paths {
            var prefix = path.parent
            while let p = prefix, below.insert(p).inserted { prefix = p.parent }
        }
        let walker = Walker(remove: paths.paths, below: below, schema: schema)
        return walker.prune(object, at: FieldPath(), schemaPath: []) ?? object
    }

    private struct Walker {
        let remove: Set<FieldPath>
        /// Every proper prefix of a path to remove: where to look further down.
        let below: Set<FieldPath>
        let schema: ObjectSchema

        /// The pruned value, or nil when a removal emptied it.
        func prune(_ value: JSON, at path: FieldPath, schemaPath: [String]) -> JSON? {
            guard below.contains(path) else { return value }
            switch value {
            case .object(var members):
                guard !members.isEmpty else { return value }
                for (key, child) in members {
                    let childPath = path.appending(.field(key))
                    if remove.contains(childPath) && !TrackedFields.isProtected(childPath) {
                        members[key] = nil
                    } else if below.contains(childPath) {
                        members[key] = prune(child, at: childPath, schemaPath: schemaPath + [key])
                    }
                }
                return members.isEmpty && !path.isEmpty ? nil : .object(members)
            case .array(let items):
                let listType = schema.listType(at: schemaPath)
                if case .atomic = listType { return value }
                guard !items.isEmpty else { return value }
                var kept: [JSON] = []
                for item in items {
                    guard let name = ListElementNames.element(of: item, in: listType) else {
                        kept.append(item)
                        continue
                    }
                    let itemPath = path.appending(name)
                    if remove.contains(itemPath) { continue }
                    if let pruned = prune(item, at: itemPath, schemaPath: schemaPath) { kept.append(pruned) }
                }
                return kept.isEmpty ? nil : .array(kept)
            default:
                return value
            }
        }
    }
}
