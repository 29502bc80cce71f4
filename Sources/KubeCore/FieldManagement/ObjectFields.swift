/// Walking an object as server-side apply sees it: its field paths, the value
/// at a path, and removing a path.
enum ObjectFields {
    /// Fields the server owns; they are never in a manager's set.
    static let untrackedMetadata: Set<String> = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                                                 "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"]

    /// Every path of the object: leaves, keyed list elements and set values.
    static func paths(of object: JSON, schema: ObjectSchema) -> Set<FieldPath> {
        var out = Set<FieldPath>()
        guard case .object(let members) = object else { return out }
        for (key, value) in members where key != "apiVersion" && key != "kind" {
            if key == "metadata", case .object(let metadata) = value {
                for (mkey, mvalue) in metadata where !untrackedMetadata.contains(mkey) {
                    walk(mvalue, path: [.field("metadata"), .field(mkey)], schemaPath: ["metadata", mkey], schema: schema, into: &out)
                }
                continue
            }
            walk(value, path: [.field(key)], schemaPath: [key], schema: schema, into: &out)
        }
        return out
    }

    private static func walk(_ value: JSON, path: FieldPath, schemaPath: [String], schema: ObjectSchema, into out: inout Set<FieldPath>) {
        switch value {
        case .object(let members):
            if members.isEmpty { out.insert(path) }
            for (key, child) in members {
                walk(child, path: path + [.field(key)], schemaPath: schemaPath + [key], schema: schema, into: &out)
            }
        case .array(let items):
            switch schema.listType(at: schemaPath) {
            case .atomic:
                out.insert(path)
            case .set:
                if items.isEmpty { out.insert(path) }
                for item in items { out.insert(path + [.value(item.serializedString())]) }
            case .map(let keys):
                if items.isEmpty { out.insert(path) }
                for item in items {
                    guard let element = keyElement(item, keys: keys) else { continue }
                    out.insert(path + [element])
                    for (key, child) in item.objectValue ?? [:] {
                        walk(child, path: path + [element, .field(key)], schemaPath: schemaPath + [key], schema: schema, into: &out)
                    }
                }
            }
        default:
            out.insert(path)
        }
    }

    static func keyElement(_ item: JSON, keys: [String]) -> FieldPathElement? {
        var key: [String: JSON] = [:]
        for k in keys { if let v = item[k] { key[k] = v } }
        guard !key.isEmpty else { return nil }
        return .key(JSON.object(key).serializedString())
    }

    /// The value at a path, nil when absent.
    static func value(at path: FieldPath, in object: JSON) -> JSON? {
        var current = object
        for element in path {
            switch element {
            case .field(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .key(let json):
                guard let key = (try? JSON.parse(json))?.objectValue,
                      let found = current.arrayValue?.first(where: { item in key.allSatisfy { item[$0.key] == $0.value } })
                else { return nil }
                current = found
            case .value(let json):
                guard let value = try? JSON.parse(json), current.arrayValue?.contains(value) == true else { return nil }
                current = value
            case .index(let i):
                guard let items = current.arrayValue, i < items.count else { return nil }
                current = items[i]
            }
        }
        return current
    }

    /// The object without the node at `path`.
    static func removing(_ path: FieldPath, from object: JSON) -> JSON {
        guard let first = path.first else { return object }
        let rest = Array(path.dropFirst())
        switch first {
        case .field(let name):
            guard case .object(var members) = object, let child = members[name] else { return object }
            members[name] = rest.isEmpty ? nil : removing(rest, from: child)
            return .object(members)
        case .key(let json):
            guard let key = (try? JSON.parse(json))?.objectValue, case .array(var items) = object,
                  let index = items.firstIndex(where: { item in key.allSatisfy { item[$0.key] == $0.value } })
            else { return object }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = removing(rest, from: items[index]) }
            return .array(items)
        case .value(let json):
            guard let value = try? JSON.parse(json), case .array(let items) = object else { return object }
            return .array(items.filter { $0 != value })
        case .index(let i):
            guard case .array(var items) = object, i < items.count else { return object }
            if rest.isEmpty { items.remove(at: i) } else { items[i] = removing(rest, from: items[i]) }
            return .array(items)
        }
    }

    /// `applied` merged into `current`: maps recurse, keyed lists merge by key,
    /// sets take the union, everything else is replaced.
    static func merge(_ current: JSON, _ applied: JSON, schemaPath: [String], schema: ObjectSchema) -> JSON {
        switch (current, applied) {
        case (.object(var base), .object(let overlay)):
            for (key, value) in overlay {
                base[key] = base[key].map { merge($0, value, schemaPath: schemaPath + [key], schema: schema) } ?? value
            }
            return .object(base)
        case (.array(let base), .array(let overlay)):
            switch schema.listType(at: schemaPath) {
            case .atomic:
                return applied
            case .set:
                var result = base
                for item in overlay where !result.contains(item) { result.append(item) }
                return .array(result)
            case .map(let keys):
                var result = base
                for item in overlay {
                    let element = keyElement(item, keys: keys)
                    if let index = result.firstIndex(where: { keyElement($0, keys: keys) == element && element != nil }) {
                        result[index] = merge(result[index], item, schemaPath: schemaPath, schema: schema)
                    } else {
                        result.append(item)
                    }
                }
                return .array(result)
            }
        default:
            return applied
        }
    }
}
