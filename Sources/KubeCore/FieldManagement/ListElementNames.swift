/// How the elements of a non-atomic list are named in field paths.
enum ListElementNames {
    /// Key fields Kubernetes defaults when an element leaves them out. Apply
    /// must name `{containerPort: 80}` as `k:{"containerPort":80,"protocol":"TCP"}`
    /// or it would not find the stored, defaulted port and would add a second
    /// one. Every built-in list keyed by `protocol` defaults it to TCP.
    static let keyDefaults: [String: JSON] = ["protocol": "TCP"]

    /// The path element of a list item, or nil when the item cannot be named
    /// (a keyed item without its key fields, or an item of an atomic list).
    static func element(of item: JSON, in listType: ListType) -> FieldPathElement? {
        switch listType {
        case .atomic:
            return nil
        case .set:
            return FieldPathElement(value: item)
        case .map(let keys):
            guard case .object(let fields) = item, !keys.isEmpty else { return nil }
            var key: [String: JSON] = [:]
            for name in keys {
                guard let value = fields[name] ?? keyDefaults[name] else { return nil }
                key[name] = value
            }
            return FieldPathElement(key: key)
        }
    }

    /// The items of a list by element name, first occurrence winning, in list order.
    /// Items that cannot be named are left out.
    static func index(_ items: [JSON], _ listType: ListType) -> (order: [FieldPathElement], items: [FieldPathElement: JSON]) {
        var order: [FieldPathElement] = []
        var byName: [FieldPathElement: JSON] = [:]
        for item in items {
            guard let name = element(of: item, in: listType), byName[name] == nil else { continue }
            byName[name] = item
            order.append(name)
        }
        return (order, byName)
    }
}
