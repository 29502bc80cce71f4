/// Defaulting as kube-apiserver does it when it decodes a custom resource
/// (request bodies and stored objects alike): first nulls that the schema
/// does not allow and cannot default are removed, then absent fields (and
/// disallowed nulls) get their `default`, recursively, defaults included.
enum SchemaDefaulter {
    static func apply(_ value: JSON, _ node: SchemaNode) -> JSON {
        fillDefaults(removeUndefaultableNulls(value, node), node)
    }

    /// The schema of a member: its property, else the additionalProperties schema.
    static func memberSchema(_ key: String, _ node: SchemaNode?) -> SchemaNode? {
        guard let node else { return nil }
        return node.properties[key] ?? node.additionalProperties?.schema
    }

    /// `PruneNonNullableNullsWithoutDefaults`.
    static func removeUndefaultableNulls(_ value: JSON, _ node: SchemaNode?) -> JSON {
        switch value {
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, child) in members {
                let schema = memberSchema(key, node)
                if child.isNull, let schema, !schema.nullable, schema.defaultValue == nil { continue }
                out[key] = removeUndefaultableNulls(child, schema)
            }
            return .object(out)
        case .array(let elements):
            return .array(elements.map { removeUndefaultableNulls($0, node?.items) })
        default:
            return value
        }
    }

    static func isDefaultableNull(_ value: JSON?, _ node: SchemaNode?) -> Bool {
        value?.isNull == true && node.map { !$0.nullable } == true
    }

    /// `structuraldefaulting.Default`.
    static func fillDefaults(_ value: JSON, _ node: SchemaNode?) -> JSON {
        guard let node else { return value }
        switch value {
        case .object(var members):
            for (key, property) in node.properties {
                guard let defaultValue = property.defaultValue else { continue }
                if members[key] == nil || isDefaultableNull(members[key], property) { members[key] = defaultValue }
            }
            for (key, child) in members {
                if let property = node.properties[key] {
                    members[key] = fillDefaults(child, property)
                } else if let additional = node.additionalProperties?.schema {
                    var child = child
                    if isDefaultableNull(child, additional) { child = additional.defaultValue ?? .null }
                    members[key] = fillDefaults(child, additional)
                }
            }
            return .object(members)
        case .array(var elements):
            for i in elements.indices {
                if isDefaultableNull(elements[i], node.items) { elements[i] = node.items?.defaultValue ?? .null }
                elements[i] = fillDefaults(elements[i], node.items)
            }
            return .array(elements)
        default:
            return value
        }
    }
}
