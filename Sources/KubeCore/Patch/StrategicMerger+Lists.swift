/// List merging for strategic merge patch.
///
/// A list is merged in four steps: list-level `$patch` markers decide whether
/// the stored elements count at all; `$deleteFromPrimitiveList` removes
/// values; the patch elements merge according to the list type; finally the
/// elements are put in order. Stored elements remember their position so the
/// ordering step can keep elements the patch does not mention where they were.
extension StrategicMerger {
    /// One element of the list being merged and, for a stored element, where
    /// it was in the stored list.
    struct ListEntry {
        var value: JSON
        var storedIndex: Int?
    }

    /// Merges a patch list (nil when only list directives name the field)
    /// into a stored list.
    func mergeList(_ stored: [JSON], _ patch: [JSON]?, at location: MergeLocation, _ directives: ListDirectives) throws(PatchError) -> [JSON] {
        let listType = schema.listType(at: location.schemaPath)
        var mergeKey: String?
        if case .map(let keys) = listType { mergeKey = keys.first }

        // `{"$patch": "replace"}` as an element replaces the whole list with the
        // other elements; `{"$patch": "merge"}` asks for what happens anyway.
        var replaceAll = false
        var elements: [(index: Int, value: JSON)] = []
        for (index, element) in (patch ?? []).enumerated() {
            switch try listMarker(element, at: location) {
            case .replace?: replaceAll = true
            case .merge?: continue
            case .delete?, nil: elements.append((index, element))
            }
        }

        var entries = replaceAll ? [] : stored.enumerated().map { ListEntry(value: $1, storedIndex: $0) }
        if let deletions = directives.deletions {
            entries.removeAll { deletions.containsEquivalent($0.value) }
        }

        // The identities of the patch elements, in patch order, for ordering.
        var patchOrder: [JSON] = []
        if let mergeKey {
            patchOrder = try mergeKeyed(&entries, elements, key: mergeKey, at: location)
        } else if listType == .set {
            patchOrder = try mergeSet(&entries, elements, at: location)
        } else if patch != nil {
            // Atomic: the patch list is the new list.
            entries = []
            for element in elements {
                if let value = try build(element.value, at: location) { entries.append(ListEntry(value: value, storedIndex: nil)) }
            }
        }

        if let order = directives.order {
            let wanted = try orderIdentities(order, key: mergeKey, at: location)
            if listType != .atomic {
                try checkPatchFollows(wanted, patchOrder, at: location)
            }
            patchOrder = wanted
        }
        return arrange(entries, by: patchOrder, key: mergeKey).map(\.value)
    }

    /// The directive of an element that is exactly `{"$patch": …}`, which
    /// speaks for the list; nil for any other element.
    private func listMarker(_ element: JSON, at location: MergeLocation) throws(PatchError) -> PatchDirective? {
        guard case .object(let members) = element, members.count == 1, let value = members[PatchDirective.key] else { return nil }
        return try PatchDirective.parse(value, at: location)
    }

    /// Keyed list: each patch element finds the stored element with the same
    /// merge key and merges into it, or is added. `$patch: delete` in an
    /// element removes every stored element with its key. Returns the keys in
    /// patch order.
    private func mergeKeyed(_ entries: inout [ListEntry], _ elements: [(index: Int, value: JSON)], key: String, at location: MergeLocation) throws(PatchError) -> [JSON] {
        var order: [JSON] = []
        for (index, element) in elements {
            guard case .object(let members) = element else {
                throw .failed("\(location): element \(index) of the patch list is a JSON \(element.typeName), not an object with merge key \"\(key)\"")
            }
            guard let keyValue = members[key] else {
                throw .failed("\(location): element \(index) of the patch list has no merge key \"\(key)\": \(element.serializedString())")
            }
            let matches: (ListEntry) -> Bool = { $0.value[key]?.isEquivalent(to: keyValue) == true }
            if let directive = members[PatchDirective.key], try PatchDirective.parse(directive, at: location) == .delete {
                entries.removeAll(where: matches)
                continue
            }
            let elementLocation = location.element(key: key, value: keyValue)
            if let found = entries.firstIndex(where: matches) {
                if let merged = try mergeObject(entries[found].value.objectValue ?? [:], members, at: elementLocation) {
                    entries[found].value = .object(merged)
                } else {
                    entries.remove(at: found)
                }
            } else if let built = try mergeObject([:], members, at: elementLocation) {
                entries.append(ListEntry(value: .object(built), storedIndex: nil))
            }
            order.append(keyValue)
        }
        return order
    }

    /// Set: the union, each value once, stored values first. Returns the
    /// patch values in patch order.
    private func mergeSet(_ entries: inout [ListEntry], _ elements: [(index: Int, value: JSON)], at location: MergeLocation) throws(PatchError) -> [JSON] {
        var order: [JSON] = []
        for (_, element) in elements {
            guard let value = try build(element, at: location) else { continue }
            if !entries.contains(where: { $0.value.isEquivalent(to: value) }) {
                entries.append(ListEntry(value: value, storedIndex: nil))
            }
            order.append(value)
        }
        return order
    }

    /// The identities `$setElementOrder` lists: merge-key values for a keyed
    /// list (each entry an object holding the key), the values otherwise.
    private func orderIdentities(_ order: [JSON], key: String?, at location: MergeLocation) throws(PatchError) -> [JSON] {
        guard let key else { return order }
        var identities: [JSON] = []
        for (index, element) in order.enumerated() {
            guard let value = element[key] else {
                throw .malformed("\(location): element \(index) of $setElementOrder has no merge key \"\(key)\": \(element.serializedString())")
            }
            identities.append(value)
        }
        return identities
    }

    /// The patch list must name its elements in the order `$setElementOrder`
    /// gives, and only elements it lists; otherwise the patch contradicts
    /// itself and, like the API server, this rejects it.
    private func checkPatchFollows(_ wanted: [JSON], _ patchOrder: [JSON], at location: MergeLocation) throws(PatchError) {
        var position = wanted.startIndex
        for identity in patchOrder {
            guard let found = wanted[position...].firstIndex(where: { $0.isEquivalent(to: identity) }) else {
                throw .malformed("\(location): the patch list does not follow $setElementOrder: \(identity.serializedString()) is missing from it or out of order")
            }
            position = found
        }
    }

    /// Puts the merged elements in order. Elements named in `order` come in
    /// that order; the others (stored elements the patch does not mention)
    /// are woven in so that each stays ahead of any named element it was ahead
    /// of in the stored list. With nothing named, the order is unchanged.
    private func arrange(_ entries: [ListEntry], by order: [JSON], key: String?) -> [ListEntry] {
        guard !order.isEmpty else { return entries }
        func rank(_ entry: ListEntry) -> Int? {
            // A keyed element is named by its merge key, any other by its value.
            guard let identity = key.map({ entry.value[$0] }) ?? .some(entry.value) else { return nil }
            return order.firstIndex { $0.isEquivalent(to: identity) }
        }
        var named: [(rank: Int, position: Int, entry: ListEntry)] = []
        var others: [ListEntry] = []
        for (position, entry) in entries.enumerated() {
            if let rank = rank(entry) { named.append((rank, position, entry)) } else { others.append(entry) }
        }
        let ordered = named.sorted { ($0.rank, $0.position) < ($1.rank, $1.position) }.map(\.entry)

        var result: [ListEntry] = []
        result.reserveCapacity(entries.count)
        var next = (named: 0, other: 0)
        while next.named < ordered.count || next.other < others.count {
            let takeOther: Bool
            if next.named == ordered.count {
                takeOther = true
            } else if next.other == others.count {
                takeOther = false
            } else if let otherIndex = others[next.other].storedIndex, let namedIndex = ordered[next.named].storedIndex {
                takeOther = otherIndex < namedIndex
            } else {
                takeOther = false
            }
            if takeOther {
                result.append(others[next.other])
                next.other += 1
            } else {
                result.append(ordered[next.named])
                next.named += 1
            }
        }
        return result
    }
}
