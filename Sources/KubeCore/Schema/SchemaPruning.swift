/// Pruning as kube-apiserver does it for custom resources: fields the schema
/// does not specify are dropped, except under `x-kubernetes-preserve-unknown-fields`
/// and except `apiVersion`, `kind` and `metadata` of the object itself and of
/// embedded resources (those are handled by object-meta rules, not the schema).
///
/// Under `additionalProperties: true` (no schema) values are pruned as if they
/// had an empty schema: scalars stay, objects lose all their fields.
struct SchemaPruner {
    static let metaFields: Set<String> = ["apiVersion", "kind", "metadata"]

    /// Dotted paths of the dropped fields (`spec.items[0].bogus`), in visit order.
    var dropped: [String] = []

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// `isResource` treats the node as an embedded resource: the object root always is.
    mutating func prune(_ value: JSON, _ node: SchemaNode?, isResource: Bool = false, path: String = "") -> JSON {
        if let node, node.preserveUnknownFields { return pruneKnown(value, node, isResource: isResource, path: path) }
        switch value {
        case .object(let members):
            guard let node else {
                for key in members.keys.sorted() { dropped.append(Self.join(path, key)) }
                return .emptyObject
            }
            let keepsMeta = isResource || node.embeddedResource
            var out: [String: JSON] = [:]
            for (key, child) in members.sorted(by: { $0.key < $1.key }) {
                if keepsMeta && Self.metaFields.contains(key) {
                    out[key] = child
                } else if let property = node.properties[key] {
                    out[key] = prune(child, property, path: Self.join(path, key))
                } else if let additional = node.additionalProperties {
                    out[key] = prune(child, additional.schema, path: Self.join(path, key))
                } else {
                    if !Self.metaFields.contains(key) || !path.isEmpty { dropped.append(Self.join(path, key)) }
                }
            }
            return .object(out)
        case .array(let elements):
            return .array(elements.enumerated().map { prune($0.element, node?.items, path: "\(path)[\($0.offset)]") })
        default:
            return value
        }
    }

    /// Under preserve-unknown-fields: known fields are pruned by their own
    /// schemas, unknown ones kept as they are (list elements too).
    mutating func pruneKnown(_ value: JSON, _ node: SchemaNode?, isResource: Bool = false, path: String) -> JSON {
        guard let node else { return value }
        switch value {
        case .object(let members):
            let keepsMeta = isResource || node.embeddedResource
            var out = members
            for (key, child) in members.sorted(by: { $0.key < $1.key }) {
                if keepsMeta && Self.metaFields.contains(key) { continue }
                if let property = node.properties[key] {
                    out[key] = prune(child, property, path: Self.join(path, key))
                } else if let additional = node.additionalProperties {
                    out[key] = prune(child, additional.schema, path: Self.join(path, key))
                }
            }
            return .object(out)
        case .array(let elements):
            return .array(elements.enumerated().map { pruneKnown($0.element, node.items, path: "\(path)[\($0.offset)]") })
        default:
            return value
        }
    }
}
