extension FieldSet {
    /// The fields an object sets, as server-side apply records an applied
    /// configuration: every scalar, null and empty object is a member; an
    /// atomic list is one member; each element of a keyed or set list is a
    /// member, keyed elements with their fields below them. Intermediate
    /// objects are not members, and empty keyed or set lists set nothing.
    public init(of object: JSON, schema: ObjectSchema) {
        var paths = Set<FieldPath>()
        for (schemaPath, value) in TrackedFields.members(of: object) {
            let path = FieldPath(schemaPath.map(FieldPathElement.field))
            FieldSet.collect(value, at: path, schemaPath: schemaPath, schema: schema, into: &paths)
        }
        self.init(paths)
    }

    private static func collect(_ value: JSON, at path: FieldPath, schemaPath: [String], schema: ObjectSchema,
                                into paths: inout Set<FieldPath>) {
        switch value {
        case .object(let members):
            if members.isEmpty { paths.insert(path) }
            for (key, child) in members {
                collect(child, at: path.appending(.field(key)), schemaPath: schemaPath + [key], schema: schema, into: &paths)
            }
        case .array(let items):
            let listType = schema.listType(at: schemaPath)
            if case .atomic = listType {
                paths.insert(path)
                return
            }
            let named = items.map { ($0, ListElementNames.element(of: $0, in: listType)) }
            var occurrences: [FieldPathElement: Int] = [:]
            for case (_, let name?) in named { occurrences[name, default: 0] += 1 }
            for case (let item, let name?) in named {
                let itemPath = path.appending(name)
                paths.insert(itemPath)
                // A duplicated element is owned as a whole: its fields cannot be told apart.
                guard occurrences[name] == 1, case .object(let fields) = item else { continue }
                for (key, child) in fields {
                    collect(child, at: itemPath.appending(.field(key)), schemaPath: schemaPath + [key], schema: schema, into: &paths)
                }
            }
        default:
            paths.insert(path)
        }
    }
}
