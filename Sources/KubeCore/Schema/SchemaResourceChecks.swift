/// The checks kube-apiserver runs on a custom resource after schema
/// validation: embedded resources must look like objects (apiVersion, kind,
/// valid metadata), and `set`/`map` lists must not repeat elements or keys.
/// Paths here are apimachinery field paths (`spec.ports[1]`, `spec.map[key]`).
enum SchemaResourceChecks {
    static func child(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    // MARK: Embedded resources

    static func embeddedResources(_ value: JSON, _ node: SchemaNode?, path: String, into causes: inout [FieldCause]) {
        guard let node else { return }
        switch value {
        case .object(let members):
            if node.embeddedResource { embeddedResource(members, path: path, into: &causes) }
            for (key, child) in members.sorted(by: { $0.key < $1.key }) {
                if let property = node.properties[key] {
                    embeddedResources(child, property, path: Self.child(path, key), into: &causes)
                } else if let additional = node.additionalProperties?.schema {
                    embeddedResources(child, additional, path: "\(path)[\(key)]", into: &causes)
                }
            }
        case .array(let elements):
            for (i, element) in elements.enumerated() { embeddedResources(element, node.items, path: "\(path)[\(i)]", into: &causes) }
        default:
            break
        }
    }

    static func embeddedResource(_ object: [String: JSON], path: String, into causes: inout [FieldCause]) {
        for key in ["apiVersion", "kind"] where object[key] == nil {
            causes.append(.required(child(path, key)))
        }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            let field = child(path, key)
            switch key {
            case "apiVersion":
                guard let apiVersion = value.stringValue else { causes.append(.invalid(field, value, "must be a string")); continue }
                if apiVersion.isEmpty {
                    causes.append(.invalid(field, value, "must not be empty"))
                } else if apiVersion.filter({ $0 == "/" }).count > 1 {
                    causes.append(.invalid(field, value, "unexpected GroupVersion string: \(apiVersion)"))
                }
            case "kind":
                guard let kind = value.stringValue else { causes.append(.invalid(field, value, "must be a string")); continue }
                let problems = NameValidation.dns1035LabelProblems(kind.lowercased())
                if kind.isEmpty {
                    causes.append(.invalid(field, value, "must not be empty"))
                } else if !problems.isEmpty {
                    causes.append(.invalid(field, value, "may have mixed case, but should otherwise match: " + problems.joined(separator: ",")))
                }
            case "metadata":
                guard case .object = value else { causes.append(.invalid(field, value, "must be an object")); continue }
                var metadata = value
                // The API server fills in a name so that a missing one is not reported.
                if (metadata["name"]?.stringValue ?? "").isEmpty { metadata["name"] = "fakename" }
                let namespaced = !(metadata["namespace"]?.stringValue ?? "").isEmpty
                causes += NameValidation.validateObjectMeta(metadata, namespaced: namespaced, nameRule: .pathSegment, field: field)
            default:
                break
            }
        }
    }

    // MARK: List types

    static func lists(_ value: JSON, _ node: SchemaNode?, path: String, into causes: inout [FieldCause]) {
        guard let node else { return }
        switch value {
        case .object(let members):
            let sorted = members.sorted(by: { $0.key < $1.key })
            if let additional = node.additionalProperties?.schema {
                for (key, child) in sorted { lists(child, additional, path: "\(path)[\(key)]", into: &causes) }
            }
            for (key, child) in sorted {
                if let property = node.properties[key] { lists(child, property, path: Self.child(path, key), into: &causes) }
            }
        case .array(let elements):
            switch node.listType {
            case "set":
                for i in repeatedIndices(elements) { causes.append(.duplicate("\(path)[\(i)]", elements[i])) }
            case "map":
                causes += mapListDuplicates(elements, keys: node.listMapKeys, path: path)
            default:
                break
            }
            if let items = node.items {
                for (i, element) in elements.enumerated() { lists(element, items, path: "\(path)[\(i)]", into: &causes) }
            }
        default:
            break
        }
    }

    /// Indices of second occurrences. Scalars compare by JSON kind and value
    /// (1 and 1.0 differ, as Go's interface equality says); objects and arrays
    /// by their serialized form.
    static func repeatedIndices(_ elements: [JSON]) -> [Int] {
        var seen: [String: Int] = [:]
        var repeated: [Int] = []
        for (i, element) in elements.enumerated() {
            let identity: String
            switch element {
            case .object, .array: identity = "c" + element.serializedString()
            case .int(let n): identity = "i\(n)"
            case .double(let d): identity = "d\(d)"
            default: identity = "s" + element.serializedString()
            }
            seen[identity, default: 0] += 1
            if seen[identity] == 2 { repeated.append(i) }
        }
        return repeated
    }

    static func mapListDuplicates(_ elements: [JSON], keys: [String], path: String) -> [FieldCause] {
        for (i, element) in elements.enumerated() where !element.isNull && element.objectValue == nil {
            return [.invalid("\(path)[\(i)]", element, "must be an object for an array of list-type map")]
        }
        guard elements.count > 1 else { return [] }
        let keyValues: [JSON] = elements.map { element in
            .object(Dictionary(uniqueKeysWithValues: keys.compactMap { key in element[key].map { (key, $0) } }))
        }
        if keys.count == 1 {
            // One key: compare the key values themselves, absent ones alike.
            let singles: [JSON] = keyValues.map { $0[keys[0]] ?? .object(["": .null]) }
            return repeatedIndices(singles).map { .duplicate("\(path)[\($0)]", keyValues[$0]) }
        }
        return repeatedIndices(keyValues).map { .duplicate("\(path)[\($0)]", keyValues[$0]) }
    }
}
