/// The value of a `$patch` directive.
///
/// In an object it says how that object combines with the stored one; as the
/// only member of a list element it applies to the whole list; in an element
/// of a keyed list it applies to the stored element with the same key.
enum PatchDirective: String, Sendable {
    case merge, replace, delete

    static let key = "$patch"

    /// Parses a `$patch` value. Anything but the three known strings is a
    /// malformed patch: guessing would silently merge what was meant to be
    /// replaced or deleted.
    static func parse(_ value: JSON, at location: MergeLocation) throws(PatchError) -> PatchDirective {
        guard let text = value.stringValue else {
            throw .malformed("\(location): $patch must be a string, got \(value.typeName)")
        }
        guard let directive = PatchDirective(rawValue: text) else {
            throw .malformed("\(location): unknown $patch directive \"\(text)\" (expected \"merge\", \"replace\" or \"delete\")")
        }
        return directive
    }

    /// Removes `$patch` from an object patch and returns it; `merge` when absent.
    static func take(from patch: inout [String: JSON], at location: MergeLocation) throws(PatchError) -> PatchDirective {
        guard let value = patch.removeValue(forKey: key) else { return .merge }
        return try parse(value, at: location)
    }
}

/// The directives of one object patch other than `$patch`, taken out of it
/// before its fields are merged so that no directive key reaches the result.
struct ObjectDirectives: Sendable {
    static let retainKeysKey = "$retainKeys"
    static let setElementOrderPrefix = "$setElementOrder/"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/"

    /// `$retainKeys`: the only fields the merged object may keep.
    var retainKeys: [String]?
    /// `$setElementOrder/<field>`: the wanted order of a merged list, by field.
    var elementOrders: [String: [JSON]] = [:]
    /// `$deleteFromPrimitiveList/<field>`: values to remove from a list, by field.
    var primitiveDeletions: [String: [JSON]] = [:]

    /// The list directives that concern `field`.
    func list(_ field: String) -> ListDirectives {
        ListDirectives(order: elementOrders[field], deletions: primitiveDeletions[field])
    }

    /// Every field a list directive names.
    var listFields: Set<String> { Set(elementOrders.keys).union(primitiveDeletions.keys) }

    /// Removes every `$`-key from `patch` and returns the directives they
    /// carried. A key starting with `$` that is not a known directive is
    /// malformed: no Kubernetes field starts with `$`, so it is a typo or a
    /// directive this server does not know, and storing it would be wrong.
    static func take(from patch: inout [String: JSON], at location: MergeLocation) throws(PatchError) -> ObjectDirectives {
        var directives = ObjectDirectives()
        for key in patch.keys.sorted() where key.hasPrefix("$") {
            let value = patch.removeValue(forKey: key) ?? .null
            if key == retainKeysKey {
                guard let items = value.arrayValue else {
                    throw .malformed("\(location): $retainKeys must be a list of field names, got \(value.typeName)")
                }
                var names: [String] = []
                for item in items {
                    guard let name = item.stringValue else {
                        throw .malformed("\(location): $retainKeys must be a list of field names, but contains \(item.serializedString())")
                    }
                    names.append(name)
                }
                directives.retainKeys = names
            } else if let field = fieldName(key, prefix: setElementOrderPrefix) {
                directives.elementOrders[field] = try list(value, key: key, at: location)
            } else if let field = fieldName(key, prefix: deleteFromPrimitiveListPrefix) {
                directives.primitiveDeletions[field] = try list(value, key: key, at: location)
            } else {
                throw .malformed("\(location): unknown directive \"\(key)\"")
            }
        }
        return directives
    }

    private static func fieldName(_ key: String, prefix: String) -> String? {
        guard key.hasPrefix(prefix) else { return nil }
        return String(key.dropFirst(prefix.count))
    }

    private static func list(_ value: JSON, key: String, at location: MergeLocation) throws(PatchError) -> [JSON] {
        if key.hasSuffix("/") {
            throw .malformed("\(location): directive \"\(key)\" names no field")
        }
        guard let items = value.arrayValue else {
            throw .malformed("\(location): \(key) must be a list, got \(value.typeName)")
        }
        return items
    }
}

/// The directives a parent object carries for one of its lists.
struct ListDirectives: Sendable {
    var order: [JSON]?
    var deletions: [JSON]?

    static let none = ListDirectives()
}
