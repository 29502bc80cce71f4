/// Kubernetes strategic merge patch, driven by an `ObjectSchema`: keyed lists
/// merge element by element on their merge key, sets take the union, other
/// lists are replaced; `$patch`, `$deleteFromPrimitiveList`,
/// `$setElementOrder` and `$retainKeys` directives are honoured.
public enum StrategicMergePatch {
    public static func apply(_ patch: JSON, to document: JSON, schema: ObjectSchema) throws(PatchError) -> JSON {
        guard case .object(let patchMembers) = patch else {
            throw PatchError(.malformed, "a strategic merge patch must be a JSON object, got \(patch.typeName)")
        }
        return try mergeObject(document.objectValue ?? [:], patchMembers, path: [], schema: schema) ?? .emptyObject
    }

    static let deletePrefix = "$deleteFromPrimitiveList/"
    static let orderPrefix = "$setElementOrder/"

    /// The merged object, or nil when the patch says `$patch: delete`.
    static func mergeObject(_ original: [String: JSON], _ patch: [String: JSON], path: [String], schema: ObjectSchema) throws(PatchError) -> JSON? {
        var patch = patch
        let where_ = path.isEmpty ? "the top level" : path.joined(separator: ".")
        if let directive = patch.removeValue(forKey: "$patch") {
            switch directive.stringValue {
            case "delete": return nil
            case "replace": return try strip(.object(patch), path: path)
            case "merge": break
            default: throw PatchError(.malformed, "unknown $patch directive \(directive.serializedString()) at \(where_)")
            }
        }
        var retainKeys: [String]?
        if let retain = patch.removeValue(forKey: "$retainKeys") {
            guard let keys = retain.arrayValue?.compactMap(\.stringValue), keys.count == retain.arrayValue?.count else {
                throw PatchError(.malformed, "$retainKeys at \(where_) must be a list of strings")
            }
            retainKeys = keys
        }
        var result = original
        var orders: [String: [JSON]] = [:]
        for (key, value) in patch where key.hasPrefix(orderPrefix) {
            guard let order = value.arrayValue else { throw PatchError(.malformed, "\(key) at \(where_) must be a list") }
            orders[String(key.dropFirst(orderPrefix.count))] = order
        }
        for (key, value) in patch.sorted(by: { $0.key < $1.key }) {
            if key.hasPrefix(orderPrefix) { continue }
            if key.hasPrefix(deletePrefix) {
                let field = String(key.dropFirst(deletePrefix.count))
                guard let remove = value.arrayValue else { throw PatchError(.malformed, "\(key) at \(where_) must be a list") }
                if let list = result[field]?.arrayValue { result[field] = .array(list.filter { !remove.contains($0) }) }
                continue
            }
            if key.hasPrefix("$") { throw PatchError(.malformed, "unknown directive \(key) at \(where_)") }
            let childPath = path + [key]
            switch value {
            case .null:
                result[key] = nil
            case .object(let members):
                if case .object(let existing) = result[key] ?? .null {
                    result[key] = try mergeObject(existing, members, path: childPath, schema: schema)
                } else {
                    result[key] = try mergeObject([:], members, path: childPath, schema: schema)
                }
            case .array(let items):
                result[key] = try mergeList(result[key]?.arrayValue ?? [], items, path: childPath, schema: schema)
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            guard let list = result[field]?.arrayValue else { continue }
            result[field] = .array(reorder(list, by: order, listType: schema.listType(at: path + [field])))
        }
        if let retainKeys {
            for key in result.keys where !retainKeys.contains(key) && patch[key] == nil { result[key] = nil }
        }
        return .object(result)
    }

    static func mergeList(_ original: [JSON], _ patch: [JSON], path: [String], schema: ObjectSchema) throws(PatchError) -> JSON {
        let where_ = path.joined(separator: ".")
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" && $0.objectValue?.count == 1 }) {
            return try strip(.array(patch.filter { !($0["$patch"]?.stringValue == "replace" && $0.objectValue?.count == 1) }), path: path)
        }
        switch schema.listType(at: path) {
        case .atomic:
            return try strip(.array(patch), path: path)
        case .set:
            var result = original
            for item in patch where !result.contains(item) { result.append(item) }
            return .array(result)
        case .map(let keys):
            let mergeKey = keys[0]
            var result = original
            for item in patch {
                guard case .object(let members) = item else {
                    throw PatchError(.failed, "\(where_): list element \(item.serializedString()) is not an object")
                }
                guard let keyValue = members[mergeKey] else {
                    throw PatchError(.failed, "\(where_): list element \(item.serializedString()) has no merge key \"\(mergeKey)\"")
                }
                let index = result.firstIndex { $0[mergeKey] == keyValue }
                if members["$patch"]?.stringValue == "delete" {
                    if let index { result.remove(at: index) }
                    continue
                }
                if let index {
                    result[index] = try mergeObject(result[index].objectValue ?? [:], members, path: path, schema: schema) ?? .emptyObject
                } else if let merged = try mergeObject([:], members, path: path, schema: schema) {
                    result.append(merged)
                }
            }
            return .array(result)
        }
    }

    /// Elements named in `order` first, in that order; the others after, as they were.
    static func reorder(_ list: [JSON], by order: [JSON], listType: ListType) -> [JSON] {
        func identity(_ element: JSON) -> JSON {
            if case .map(let keys) = listType { return element[keys[0]] ?? .null }
            return element
        }
        func orderIdentity(_ element: JSON) -> JSON {
            if case .map(let keys) = listType { return element[keys[0]] ?? element }
            return element
        }
        let wanted = order.map(orderIdentity)
        var ordered: [JSON] = []
        for id in wanted { ordered += list.filter { identity($0) == id } }
        ordered += list.filter { !wanted.contains(identity($0)) }
        return ordered
    }

    /// A patch value inserted where nothing was: directives are removed.
    static func strip(_ value: JSON, path: [String]) throws(PatchError) -> JSON {
        switch value {
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, child) in members where !key.hasPrefix("$") {
                if child.isNull { continue }
                out[key] = try strip(child, path: path + [key])
            }
            return .object(out)
        case .array(let items):
            var out: [JSON] = []
            for item in items where item["$patch"]?.stringValue != "delete" { out.append(try strip(item, path: path)) }
            return .array(out)
        default:
            return value
        }
    }
}
