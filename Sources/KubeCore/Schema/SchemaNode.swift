/// One node of a structural schema.
public final class SchemaNode: Sendable {
    let type: String?
    let properties: [String: SchemaNode]
    let items: SchemaNode?
    /// nil: no additionalProperties; a node: the schema of any other key.
    let additional: SchemaNode?
    let additionalAllowed: Bool
    let required: [String]
    let enumValues: [JSON]?
    let minimum: Double?, maximum: Double?
    let exclusiveMinimum: Bool, exclusiveMaximum: Bool
    let minLength: Int?, maxLength: Int?
    let minItems: Int?, maxItems: Int?
    let minProperties: Int?, maxProperties: Int?
    let pattern: String?
    let format: String?
    let nullable: Bool
    let defaultValue: JSON?
    let preserveUnknownFields: Bool
    let intOrString: Bool
    let embeddedResource: Bool
    let listType: String?
    let listMapKeys: [String]

    static let knownTypes: Set<String> = ["object", "array", "string", "integer", "number", "boolean"]

    init(_ json: JSON, path: String, causes: inout [FieldCause]) {
        type = json["type"]?.stringValue
        preserveUnknownFields = json["x-kubernetes-preserve-unknown-fields"]?.boolValue ?? false
        intOrString = json["x-kubernetes-int-or-string"]?.boolValue ?? false
        embeddedResource = json["x-kubernetes-embedded-resource"]?.boolValue ?? false
        if let type, !SchemaNode.knownTypes.contains(type) {
            causes.append(.notSupported(path + ".type", .string(type), supported: ["array", "boolean", "integer", "number", "object", "string"]))
        }
        var properties: [String: SchemaNode] = [:]
        for (key, value) in json["properties"]?.objectValue ?? [:] {
            properties[key] = SchemaNode(value, path: "\(path).properties[\(key)]", causes: &causes)
        }
        self.properties = properties
        items = json["items"].map { SchemaNode($0, path: path + ".items", causes: &causes) }
        switch json["additionalProperties"] {
        case .bool(let allowed)?: additional = nil; additionalAllowed = allowed
        case .object?: additional = SchemaNode(json["additionalProperties"]!, path: path + ".additionalProperties", causes: &causes); additionalAllowed = true
        default: additional = nil; additionalAllowed = false
        }
        if (type == nil || type == "") && !preserveUnknownFields && !intOrString {
            causes.append(.required(path + ".type", "must not be empty for specified object fields"))
        }
        if type == "array" && items == nil {
            causes.append(.required(path + ".items", "must be specified"))
        }
        required = json["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        enumValues = json["enum"]?.arrayValue
        minimum = json["minimum"]?.doubleValue
        maximum = json["maximum"]?.doubleValue
        exclusiveMinimum = json["exclusiveMinimum"]?.boolValue ?? false
        exclusiveMaximum = json["exclusiveMaximum"]?.boolValue ?? false
        minLength = json["minLength"]?.intValue.map(Int.init)
        maxLength = json["maxLength"]?.intValue.map(Int.init)
        minItems = json["minItems"]?.intValue.map(Int.init)
        maxItems = json["maxItems"]?.intValue.map(Int.init)
        minProperties = json["minProperties"]?.intValue.map(Int.init)
        maxProperties = json["maxProperties"]?.intValue.map(Int.init)
        pattern = json["pattern"]?.stringValue
        if let pattern, (try? Regex(pattern)) == nil {
            causes.append(.invalid(path + ".pattern", .string(pattern), "must be a valid regular expression"))
        }
        format = json["format"]?.stringValue
        nullable = json["nullable"]?.boolValue ?? false
        defaultValue = json["default"]
        listType = json["x-kubernetes-list-type"]?.stringValue
        listMapKeys = json["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let listType, !["atomic", "set", "map"].contains(listType) {
            causes.append(.notSupported(path + ".x-kubernetes-list-type", .string(listType), supported: ["atomic", "set", "map"]))
        }
        if listType == "map" && listMapKeys.isEmpty {
            causes.append(.required(path + ".x-kubernetes-list-map-keys", "must not be empty if x-kubernetes-list-type is map"))
        }
    }

    private func typeName(_ value: JSON) -> String {
        switch value {
        case .int: return "integer"
        case .double(let d): return d.rounded() == d ? "integer" : "number"
        case .bool: return "boolean"
        default: return value.typeName
        }
    }

    private func matchesType(_ value: JSON) -> Bool {
        if intOrString { return value.intValue != nil || value.stringValue != nil }
        switch type {
        case nil, "": return true
        case "integer": return value.intValue != nil
        case "number": return value.doubleValue != nil
        case "string": return value.stringValue != nil
        case "boolean": return value.boolValue != nil
        case "object": return value.objectValue != nil
        case "array": return value.arrayValue != nil
        default: return true
        }
    }

    func validate(_ value: JSON, path: String, causes: inout [FieldCause]) {
        if value.isNull {
            if !nullable && !(type == nil && preserveUnknownFields) {
                causes.append(.typeInvalid(path, "null", "\(path) in body must be of type \(type ?? "object"): \"null\""))
            }
            return
        }
        guard matchesType(value) else {
            let actual = typeName(value)
            causes.append(.typeInvalid(path, .string(actual), "\(path) in body must be of type \(intOrString ? "integer or string" : type ?? ""): \"\(actual)\""))
            return
        }
        if let enumValues, !enumValues.contains(where: { JSONPatch.equal($0, value) }) {
            causes.append(FieldCause(reason: "FieldValueNotSupported",
                                     message: "Unsupported value: \(value.serializedString()): supported values: " + enumValues.map { $0.serializedString() }.joined(separator: ", "),
                                     field: path))
        }
        if let number = value.doubleValue, value.stringValue == nil {
            let shown = value.serializedString()
            if let minimum {
                if exclusiveMinimum ? number <= minimum : number < minimum {
                    causes.append(.invalid(path, value, "\(path) in body should be greater than \(exclusiveMinimum ? "" : "or equal to ")\(JSON.formatDouble(minimum))"))
                }
            }
            if let maximum {
                if exclusiveMaximum ? number >= maximum : number > maximum {
                    causes.append(.invalid(path, value, "\(path) in body should be less than \(exclusiveMaximum ? "" : "or equal to ")\(JSON.formatDouble(maximum))"))
                }
            }
            if format == "int32", let i = value.intValue, i < Int64(Int32.min) || i > Int64(Int32.max) {
                causes.append(.invalid(path, value, "\(path) in body must be of type int32: \"\(shown)\""))
            }
        }
        if let s = value.stringValue {
            let length = s.count
            if let minLength, length < minLength {
                causes.append(.invalid(path, value, "\(path) in body should be at least \(minLength) chars long"))
            }
            if let maxLength, length > maxLength {
                causes.append(FieldCause(reason: "FieldValueTooLong", message: "Too long: may not be more than \(maxLength) bytes", field: path))
            }
            if let pattern, let regex = try? Regex(pattern), (try? regex.firstMatch(in: s)) == nil {
                causes.append(.invalid(path, value, "\(path) in body should match '\(pattern)'"))
            }
            if format == "date-time" && Self.parseDateTime(s) == false {
                causes.append(.invalid(path, value, "\(path) in body must be of type date-time: \(value.serializedString())"))
            }
        }
        if let items = value.arrayValue {
            if let minItems, items.count < minItems {
                causes.append(.invalid(path, value, "\(path) in body should have at least \(minItems) items"))
            }
            if let maxItems, items.count > maxItems {
                causes.append(FieldCause(reason: "FieldValueTooMany", message: "Too many: \(items.count): must have at most \(maxItems) items", field: path))
            }
            for (i, item) in items.enumerated() { self.items?.validate(item, path: "\(path)[\(i)]", causes: &causes) }
            if listType == "set" {
                for (i, item) in items.enumerated() where items[..<i].contains(item) {
                    causes.append(FieldCause(reason: "FieldValueDuplicate", message: "Duplicate value: \(item.serializedString())", field: "\(path)[\(i)]"))
                }
            }
            if listType == "map" {
                var seen: [[JSON?]] = []
                for (i, item) in items.enumerated() {
                    let key = listMapKeys.map { item[$0] }
                    if seen.contains(key) {
                        let shown = JSON.object(Dictionary(uniqueKeysWithValues: listMapKeys.compactMap { k in item[k].map { (k, $0) } }))
                        causes.append(FieldCause(reason: "FieldValueDuplicate", message: "Duplicate value: \(shown.serializedString())", field: "\(path)[\(i)]"))
                    }
                    seen.append(key)
                }
            }
        }
        if let members = value.objectValue {
            for key in required where members[key] == nil {
                causes.append(.required(path.isEmpty ? key : "\(path).\(key)"))
            }
            if let minProperties, members.count < minProperties {
                causes.append(.invalid(path, value, "\(path) in body should have at least \(minProperties) properties"))
            }
            if let maxProperties, members.count > maxProperties {
                causes.append(FieldCause(reason: "FieldValueTooMany", message: "Too many: \(members.count): must have at most \(maxProperties) items", field: path))
            }
            for (key, child) in members.sorted(by: { $0.key < $1.key }) {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if let node = properties[key] {
                    node.validate(child, path: childPath, causes: &causes)
                } else if let additional {
                    additional.validate(child, path: childPath, causes: &causes)
                }
            }
        }
    }

    static func parseDateTime(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":") else { return false }
        return true
    }

    /// Keys this node keeps whatever the schema says.
    private func keepsUnknown(isRoot: Bool) -> Bool { preserveUnknownFields || additionalAllowed }

    func prune(_ value: JSON, isRoot: Bool = false) -> JSON {
        switch value {
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, child) in members {
                if let node = properties[key] {
                    out[key] = node.prune(child)
                } else if let additional {
                    out[key] = additional.prune(child)
                } else if keepsUnknown(isRoot: isRoot) || ((isRoot || embeddedResource) && ["apiVersion", "kind", "metadata"].contains(key)) {
                    out[key] = child
                }
            }
            return .object(out)
        case .array(let elements):
            guard let items else { return value }
            return .array(elements.map { items.prune($0) })
        default:
            return value
        }
    }

    func collectUnknown(_ value: JSON, path: String, isRoot: Bool, into found: inout [String]) {
        switch value {
        case .object(let members):
            for (key, child) in members {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if let node = properties[key] {
                    node.collectUnknown(child, path: childPath, isRoot: false, into: &found)
                } else if let additional {
                    additional.collectUnknown(child, path: childPath, isRoot: false, into: &found)
                } else if !(keepsUnknown(isRoot: isRoot) || ((isRoot || embeddedResource) && ["apiVersion", "kind", "metadata"].contains(key))) {
                    found.append(childPath)
                }
            }
        case .array(let elements):
            for (i, element) in elements.enumerated() { items?.collectUnknown(element, path: "\(path)[\(i)]", isRoot: false, into: &found) }
        default:
            break
        }
    }

    func applyDefaults(_ value: JSON) -> JSON {
        switch value {
        case .object(var members):
            for (key, node) in properties {
                if members[key] == nil, let defaultValue = node.defaultValue { members[key] = defaultValue }
                if let child = members[key] { members[key] = node.applyDefaults(child) }
            }
            if let additional {
                for (key, child) in members where properties[key] == nil { members[key] = additional.applyDefaults(child) }
            }
            return .object(members)
        case .array(let elements):
            guard let items else { return value }
            return .array(elements.map { items.applyDefaults($0) })
        default:
            return value
        }
    }

    func collectLists(path: [String], into lists: inout [[String]: ListType]) {
        if type == "array" {
            switch listType {
            case "set": lists[path] = .set
            case "map": lists[path] = .map(keys: listMapKeys)
            default: break
            }
            items?.collectLists(path: path, into: &lists)
        }
        for (key, node) in properties { node.collectLists(path: path + [key], into: &lists) }
    }
}
