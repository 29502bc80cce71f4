/// The recursive merge behind `StrategicMergePatch`, with the schema that
/// says how each list merges. This file merges objects; the lists are in
/// `StrategicMerger+Lists.swift`.
struct StrategicMerger: Sendable {
    let schema: ObjectSchema

    /// Merges an object patch into a stored object. Returns nil when the
    /// patch says `$patch: delete`, so the caller removes the object.
    ///
    /// `$patch: replace` builds the object from the patch alone, through the
    /// same merge with nothing stored, so nested directives and nulls are
    /// handled the same way everywhere and never leak into the result.
    func mergeObject(_ stored: [String: JSON], _ patch: [String: JSON], at location: MergeLocation) throws(PatchError) -> [String: JSON]? {
        var patch = patch
        switch try PatchDirective.take(from: &patch, at: location) {
        case .delete: return nil
        case .replace: return try mergeObject([:], patch, at: location)
        case .merge: break
        }
        let directives = try ObjectDirectives.take(from: &patch, at: location)
        var result = stored
        if let retained = directives.retainKeys {
            result = try retain(result, keys: retained, patch: patch, at: location)
        }
        // Sorted so that, of several problems, the same one is always reported.
        for field in Set(patch.keys).union(directives.listFields).sorted() {
            let fieldLocation = location.field(field)
            let lists = directives.list(field)
            switch (result[field], patch[field]) {
            case (_, .null?):
                result.removeValue(forKey: field)
            case (.array(let items)?, nil):
                // Only list directives name this field: reorder or delete in the stored list.
                result[field] = .array(try mergeList(items, nil, at: fieldLocation, lists))
            case (_, nil):
                continue  // list directives for a list that is not there
            case (.object(let storedMembers)?, .object(let patchMembers)?):
                result[field] = try mergeObject(storedMembers, patchMembers, at: fieldLocation).map(JSON.object)
            case (let storedValue, .array(let items)?):
                result[field] = .array(try mergeList(storedValue?.arrayValue ?? [], items, at: fieldLocation, lists))
            case (_, .object(let patchMembers)?):
                result[field] = try mergeObject([:], patchMembers, at: fieldLocation).map(JSON.object)
            case (let storedValue, let scalar?):
                // An equivalent number (`443.0` for `443`) leaves the stored form alone,
                // so a patch that changes nothing does not churn the stored object.
                if storedValue?.isEquivalent(to: scalar) != true { result[field] = scalar }
            }
        }
        return result
    }

    /// `$retainKeys`: stored fields not listed are dropped before the merge.
    /// A patch that sets a field it does not retain contradicts itself, and
    /// the API server rejects it as a bad request.
    private func retain(_ stored: [String: JSON], keys: [String], patch: [String: JSON], at location: MergeLocation) throws(PatchError) -> [String: JSON] {
        let kept = Set(keys)
        if let stray = patch.keys.sorted().first(where: { !kept.contains($0) && patch[$0]?.isNull == false }) {
            throw .malformed("\(location): field \"\(stray)\" is set by the patch but not listed in $retainKeys")
        }
        return stored.filter { kept.contains($0.key) }
    }

    /// A patch value placed where nothing is stored, with its directives
    /// applied and removed. Nil when it deletes itself (`$patch: delete`).
    /// Nested arrays have no schema of their own, so they are built element
    /// by element rather than merged as lists.
    func build(_ value: JSON, at location: MergeLocation) throws(PatchError) -> JSON? {
        switch value {
        case .object(let members):
            return try mergeObject([:], members, at: location).map(JSON.object)
        case .array(let items):
            var built: [JSON] = []
            for item in items {
                if let element = try build(item, at: location) { built.append(element) }
            }
            return .array(built)
        default:
            return value
        }
    }
}
