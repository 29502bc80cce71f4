/// Merges an applied configuration into the live object, as server-side
/// apply does before it works out ownership.
///
/// Objects merge member by member and the configuration wins on every leaf.
/// Keyed and set lists merge element by element; atomic lists are replaced.
enum ApplyMerge {
    static func merge(_ live: JSON, _ config: JSON, schema: ObjectSchema) -> JSON {
        merge(live, config, schemaPath: [], schema: schema)
    }

    private static func merge(_ live: JSON, _ config: JSON, schemaPath: [String], schema: ObjectSchema) -> JSON {
        switch (live, config) {
        case (.object(var members), .object(let applied)) where !(members.isEmpty && applied.isEmpty):
            for (key, value) in applied {
                members[key] = members[key].map { merge($0, value, schemaPath: schemaPath + [key], schema: schema) } ?? value
            }
            return .object(members)
        case (.array(let items), .array(let applied)) where !(items.isEmpty && applied.isEmpty):
            let listType = schema.listType(at: schemaPath)
            if case .atomic = listType { return config }
            return .array(mergeItems(items, applied, listType: listType, schemaPath: schemaPath, schema: schema))
        default:
            return config
        }
    }

    /// Merges two lists element by element.
    ///
    /// The order follows structured-merge-diff: elements both lists have
    /// come out in the configuration's order, elements only the live list has
    /// keep their place among them, and elements only the configuration has
    /// go where the configuration puts them. So `[a, b]` applied with `[c, a]`
    /// gives `[c, a, b]`. Elements that cannot be named (a keyed element
    /// without its keys) never match anything; the live list's duplicates of
    /// an applied element are replaced by it.
    private static func mergeItems(_ live: [JSON], _ applied: [JSON], listType: ListType,
                                   schemaPath: [String], schema: ObjectSchema) -> [JSON] {
        let liveNames = live.map { ListElementNames.element(of: $0, in: listType) }
        let appliedNames = applied.map { ListElementNames.element(of: $0, in: listType) }
        var liveFirst: [FieldPathElement: Int] = [:]
        var liveCount: [FieldPathElement: Int] = [:]
        for (i, name) in liveNames.enumerated() {
            guard let name else { continue }
            if liveFirst[name] == nil { liveFirst[name] = i }
            liveCount[name, default: 0] += 1
        }
        let appliedByName = ListElementNames.index(applied, listType).items
        // Shared elements, in the order the configuration wants them.
        var shared = appliedNames.compactMap { $0 }.filter { liveFirst[$0] != nil }[...]
        var emitted = Set<FieldPathElement>()
        var out: [JSON] = []
        out.reserveCapacity(max(live.count, applied.count))

        func emitApplied(_ index: Int) {
            guard let name = appliedNames[index] else { out.append(applied[index]); return }
            guard emitted.insert(name).inserted else { return }  // a later duplicate
            if let first = liveFirst[name] {
                // Live duplicates cannot be told apart: the configuration's element replaces them all.
                let merged = liveCount[name] == 1 ? merge(live[first], appliedByName[name]!, schemaPath: schemaPath, schema: schema)
                                                  : appliedByName[name]!
                out.append(merged)
                if shared.first == name { shared.removeFirst() }
            } else {
                out.append(applied[index])
            }
        }

        var (l, a) = (0, 0)
        while l < live.count || a < applied.count {
            let liveName = l < live.count ? liveNames[l] : nil
            if let liveName, a < applied.count {
                if liveName == appliedNames[a], liveFirst[liveName] == l {
                    emitApplied(a)
                    (l, a) = (l + 1, a + 1)
                    continue
                }
                if appliedByName[liveName] != nil, let next = shared.first, next != liveName {
                    l += 1  // shared, but comes later in the configuration: merged when reached
                    continue
                }
            }
            if l < live.count {
                guard let liveName, appliedByName[liveName] != nil else {
                    out.append(live[l])  // only the live list has it
                    l += 1
                    continue
                }
                if emitted.contains(liveName) || liveFirst[liveName] != l { l += 1 }
            }
            if a < applied.count {
                emitApplied(a)
                a += 1
            }
        }
        return out
    }
}
