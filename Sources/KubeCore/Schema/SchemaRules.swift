/// What makes a CRD's `openAPIV3Schema` acceptable to kube-apiserver, with
/// its causes and paths: the structural-schema invariants (types everywhere,
/// metadata left alone, …), the OpenAPI restrictions of CRDs (no `$ref`,
/// list-type rules, …) and defaults that validate against their own schema.
enum SchemaRules {
    enum Level { case root, item, field }

    static let openAPITypes = ["array", "boolean", "integer", "number", "object", "string"]
    static let metaFields: Set<String> = ["apiVersion", "kind", "metadata"]

    /// Every problem of a schema whose root sits at `path` in the CRD.
    static func check(_ root: SchemaNode, path: String) -> [FieldCause] {
        var causes: [FieldCause] = []
        if root.nullable { causes.append(.forbidden(path + ".nullable", "nullable cannot be true at the root")) }
        var structural: [FieldCause] = []
        invariants(root, level: .root, path: path, into: &structural)
        // The API server sorts these by their text.
        structural.sort { Array($0.description.utf8).lexicographicallyPrecedes(Array($1.description.utf8)) }
        causes += structural
        if structural.isEmpty { defaults(root, path: path, isResource: true, insideMeta: false, into: &causes) }
        openAPI(root, path: path, isRoot: true, context: Context(), into: &causes)
        return causes
    }

    // MARK: Structural invariants

    static func invariants(_ node: SchemaNode, level: Level, path: String, into causes: inout [FieldCause]) {
        if node.type == "array" && node.items == nil && !node.itemsIsArray {
            causes.append(.required(path + ".items", "must be specified"))
        }
        if let items = node.items { invariants(items, level: .item, path: path + ".items", into: &causes) }
        for (name, property) in node.properties.sorted(by: { $0.key < $1.key }) {
            invariants(property, level: .field, path: "\(path).properties[\(name)]", into: &causes)
        }
        if let additional = node.additionalProperties {
            if level == .root { causes.append(.forbidden(path + ".additionalProperties", "must not be used at the root")) }
            if let schema = additional.schema { invariants(schema, level: .field, path: path + ".additionalProperties", into: &causes) }
        }
        if node.intOrString && node.preserveUnknownFields {
            causes.append(.invalid(path + ".x-kubernetes-preserve-unknown-fields", .bool(true), "must be false if x-kubernetes-int-or-string is true"))
        }
        if node.intOrString && node.embeddedResource {
            causes.append(.invalid(path + ".x-kubernetes-embedded-resource", .bool(true), "must be false if x-kubernetes-int-or-string is true"))
        }
        if let pattern = node.pattern, let error = node.patternError {
            causes.append(.invalid(path + ".pattern", .string(pattern), "must be a valid regular expression, but isn't: \(error)"))
        }
        if node.embeddedResource && node.type != "object" {
            let detail = "must be object if x-kubernetes-embedded-resource is true"
            causes.append(node.type.isEmpty ? .required(path + ".type", detail) : .invalid(path + ".type", .string(node.type), detail))
        } else if node.type.isEmpty && !node.intOrString && !node.preserveUnknownFields {
            let detail: String
            switch level {
            case .root: detail = "must not be empty at the root"
            case .item: detail = "must not be empty for specified array items"
            case .field: detail = "must not be empty for specified object fields"
            }
            causes.append(.required(path + ".type", detail))
        }
        if node.embeddedResource && node.additionalProperties != nil {
            causes.append(.forbidden(path + ".additionalProperties", "must not be used if x-kubernetes-embedded-resource is set"))
        }
        if level == .root && !node.type.isEmpty && node.type != "object" {
            causes.append(.invalid(path + ".type", .string(node.type), "must be object at the root"))
        }
        let isResource = level == .root || node.embeddedResource
        for name in ["kind", "apiVersion"] {
            if isResource, let property = node.properties[name], property.type != "string" {
                causes.append(.invalid("\(path).properties[\(name)].type", .string(property.type), "must be string"))
            }
        }
        if let metadata = node.properties["metadata"] {
            let metadataPath = "\(path).properties[metadata]"
            if isResource && metadata.type != "object" {
                causes.append(.invalid(metadataPath + ".type", .string(metadata.type), "must be object"))
            }
            if level == .root && specifiesMoreThanNames(metadata) {
                causes.append(.forbidden(metadataPath, "must not specify anything other than name and generateName, but metadata is implicitly specified"))
            }
        }
        if node.embeddedResource && !node.preserveUnknownFields && node.properties.isEmpty {
            causes.append(.required(path + ".properties", "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"))
        }
    }

    /// Top-level metadata may only have a type, a default and schemas for
    /// `name`/`generateName`: the API server owns the rest of ObjectMeta.
    static func specifiesMoreThanNames(_ m: SchemaNode) -> Bool {
        let names = Set(m.properties.keys)
        let onlyNames = names.isSubset(of: ["name", "generateName"])
        let hasValidation = m.format != nil || m.minimum != nil || m.maximum != nil || m.exclusiveMinimum || m.exclusiveMaximum
            || m.multipleOf != nil || m.minLength != nil || m.maxLength != nil || m.minItems != nil || m.maxItems != nil
            || m.uniqueItems || m.minProperties != nil || m.maxProperties != nil || m.pattern != nil || m.enumValues != nil
            || !m.required.isEmpty || m.hasCombinators
        let hasExtensions = m.preserveUnknownFields || m.embeddedResource || m.intOrString || m.listType != nil
            || !m.listMapKeys.isEmpty || m.mapType != nil
        return !onlyNames || m.items != nil || m.additionalProperties != nil || !(m.description ?? "").isEmpty
            || !(m.title ?? "").isEmpty || m.nullable || hasValidation || hasExtensions
    }

    // MARK: Defaults

    /// Each default must survive pruning unchanged and validate against its own node.
    /// Defaults inside resource metadata are not checked here.
    static func defaults(_ node: SchemaNode, path: String, isResource: Bool, insideMeta: Bool, into causes: inout [FieldCause]) {
        let resource = isResource || node.embeddedResource
        let insideMeta = node.embeddedResource ? false : insideMeta
        if let value = node.defaultValue, !insideMeta {
            var pruner = SchemaPruner()
            if pruner.prune(value, node, isResource: resource) != value {
                causes.append(.invalid(path + ".default", value, "must not have unknown fields"))
            }
            var validator = SchemaValueValidator(base: path + ".default")
            validator.validate(value, node, name: "")
            causes += validator.causes
        }
        if let items = node.items { defaults(items, path: path + ".items", isResource: false, insideMeta: insideMeta, into: &causes) }
        for (name, property) in node.properties.sorted(by: { $0.key < $1.key }) {
            defaults(property, path: "\(path).properties[\(name)]", isResource: false,
                     insideMeta: insideMeta || (resource && metaFields.contains(name)), into: &causes)
        }
    }

    // MARK: OpenAPI restrictions of CRDs

    struct Context {
        /// nil: defaults allowed; otherwise why not ("" for no particular reason).
        var defaultsForbidden: String?
        var insideMeta = false
    }

    static func openAPI(_ node: SchemaNode, path: String, isRoot: Bool, context: Context, into causes: inout [FieldCause]) {
        if !node.type.isEmpty && !openAPITypes.contains(node.type) {
            causes.append(.notSupported(path + ".type", .string(node.type), supported: openAPITypes))
        }
        if node.defaultValue != nil, let reason = context.defaultsForbidden {
            causes.append(.forbidden(path + ".default", "must not be set" + (reason.isEmpty ? "" : " " + reason)))
        }
        for keyword in node.unsupportedKeywords {
            causes.append(.forbidden(path + "." + keyword, "\(keyword) is not supported"))
        }
        if node.type == "null" { causes.append(.forbidden(path + ".type", "type cannot be set to null, use nullable as an alternative")) }
        if node.itemsIsArray { causes.append(.forbidden(path + ".items", "items must be a schema object and not an array")) }
        if context.insideMeta && node.embeddedResource {
            causes.append(.forbidden(path + ".x-kubernetes-embedded-resource", "must not be used inside of resource meta"))
        }
        if node.uniqueItems {
            causes.append(.forbidden(path + ".uniqueItems", "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
        }
        if let additional = node.additionalProperties {
            if !node.properties.isEmpty, additional.schema != nil || additional.isFalse {
                causes.append(.forbidden(path + ".additionalProperties", "additionalProperties and properties are mutual exclusive"))
            }
            var sub = context
            if context.insideMeta { sub.defaultsForbidden = "inside additionalProperties applying to object metadata" }
            if let schema = additional.schema { openAPI(schema, path: path + ".additionalProperties", isRoot: false, context: sub, into: &causes) }
        }
        for (name, property) in node.properties.sorted(by: { $0.key < $1.key }) {
            var sub = context
            if (isRoot || node.embeddedResource) && metaFields.contains(name) {
                sub.insideMeta = true
                if isRoot { sub.defaultsForbidden = "in top-level \(name)" }
            }
            openAPI(property, path: "\(path).properties[\(name)]", isRoot: false, context: sub, into: &causes)
        }
        if let items = node.items { openAPI(items, path: path + ".items", isRoot: false, context: context, into: &causes) }
        if node.preserveUnknownFieldsIsFalse {
            causes.append(.invalid(path + ".x-kubernetes-preserve-unknown-fields", .bool(false), "must be true or undefined"))
        }
        mapAndListTypes(node, path: path, into: &causes)
    }

    static func mustBe(_ node: SchemaNode, _ detail: String, path: String) -> FieldCause {
        node.type.isEmpty ? .required(path + ".type", detail) : .invalid(path + ".type", .string(node.type), detail)
    }

    static func mapAndListTypes(_ node: SchemaNode, path: String, into causes: inout [FieldCause]) {
        if let mapType = node.mapType {
            if node.type != "object" { causes.append(mustBe(node, "must be object if x-kubernetes-map-type is specified", path: path)) }
            if mapType != "atomic" && mapType != "granular" {
                causes.append(.notSupported(path + ".x-kubernetes-map-type", .string(mapType), supported: ["atomic", "granular"]))
            }
        }
        let listType = node.listType
        if listType != nil && node.type != "array" {
            causes.append(mustBe(node, "must be array if x-kubernetes-list-type is specified", path: path))
        } else if listType == "set", let items = node.items {
            let detail = "must be atomic as item of a list with x-kubernetes-list-type=set"
            let shownListType = items.listType.map(JSON.string) ?? .null
            if items.type == "array", let itemListType = items.listType, itemListType != "atomic" {
                causes.append(.invalid(path + ".items.x-kubernetes-list-type", shownListType, detail))
            } else if items.type == "object" && items.mapType != "atomic" {
                causes.append(.invalid(path + ".items.x-kubernetes-map-type", shownListType, detail))
            }
        }
        if let listType, !["atomic", "set", "map"].contains(listType) {
            causes.append(.notSupported(path + ".x-kubernetes-list-type", .string(listType), supported: ["atomic", "set", "map"]))
        }
        if !node.listMapKeys.isEmpty && listType != "map" {
            let detail = "must be map if x-kubernetes-list-map-keys is non-empty"
            causes.append(listType.map { .invalid(path + ".x-kubernetes-list-type", .string($0), detail) } ?? .required(path + ".x-kubernetes-list-type", detail))
        }
        if listType == "map" { mapListRules(node, path: path, into: &causes) }
        if let items = node.items, let listType, listType == "set" || listType == "map" {
            if items.nullable {
                causes.append(.forbidden(path + ".items.nullable", "cannot be nullable when x-kubernetes-list-type is \(listType)"))
            }
            if listType == "map" {
                for key in node.listMapKeys {
                    guard let property = items.properties[key] else { continue }
                    let keyPath = "\(path).items.properties[\(key)]"
                    if !items.required.contains(key) && property.defaultValue == nil {
                        causes.append(.required(keyPath + ".default", "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"))
                    }
                    if property.nullable {
                        causes.append(.forbidden(keyPath + ".nullable", "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"))
                    }
                }
            }
        }
    }

    static func mapListRules(_ node: SchemaNode, path: String, into causes: inout [FieldCause]) {
        let keys = JSON.array(node.listMapKeys.map(JSON.string))
        if node.listMapKeys.isEmpty {
            causes.append(.required(path + ".x-kubernetes-list-map-keys", "must not be empty if x-kubernetes-list-type is map"))
        }
        guard let items = node.items else {
            if !node.itemsIsArray { causes.append(.required(path + ".items", "must have a schema if x-kubernetes-list-type is map")) }
            return
        }
        guard items.type == "object" else {
            causes.append(.invalid(path + ".items.type", .string(items.type), "must be object if parent array's x-kubernetes-list-type is map"))
            return
        }
        var seen: Set<String> = []
        for key in node.listMapKeys {
            if let property = items.properties[key] {
                if property.type == "array" || property.type == "object" {
                    causes.append(.invalid("\(path).items.properties[\(key)].type", .string(items.type), "must be a scalar type if parent array's x-kubernetes-list-type is map"))
                }
            } else {
                causes.append(.invalid(path + ".x-kubernetes-list-map-keys", keys, "entries must all be names of item properties"))
            }
            if !seen.insert(key).inserted {
                causes.append(.invalid(path + ".x-kubernetes-list-map-keys", keys, "must not contain duplicate entries"))
            }
        }
    }
}

extension SchemaNode.AdditionalProperties {
    var isFalse: Bool { if case .allowed(false) = self { return true } else { return false } }
}
