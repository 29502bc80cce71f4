import KubeCore

/// Turning a CustomResourceDefinition into a served resource.
enum CustomResourceDefinitions {
    static let resource = GroupResource(group: "apiextensions.k8s.io", resource: "customresourcedefinitions")

    /// Validates a CRD and describes the resource it defines. Throws 422 Invalid
    /// with causes pointing into the CRD when it is not acceptable.
    static func resourceInfo(from crd: JSON, state: ObjectStore.State) throws(APIError) -> ResourceInfo {
        let crdInfo = state.resources.builtin(resource.group, resource.resource)
        let name = crd[path: ["metadata", "name"]]?.stringValue ?? ""
        var causes: [FieldCause] = []
        func require(_ path: [String]) -> String {
            let value = crd[path: path]?.stringValue ?? ""
            if value.isEmpty {
                causes.append(FieldCause(reason: "FieldValueRequired", message: "Required value", field: path.joined(separator: ".")))
            }
            return value
        }
        let group = require(["spec", "group"])
        let plural = require(["spec", "names", "plural"])
        let kind = require(["spec", "names", "kind"])
        var singular = crd[path: ["spec", "names", "singular"]]?.stringValue ?? ""
        if singular.isEmpty { singular = kind.lowercased() }
        let scope = crd[path: ["spec", "scope"]]?.stringValue ?? ""
        if scope != "Namespaced" && scope != "Cluster" {
            causes.append(FieldCause(reason: scope.isEmpty ? "FieldValueRequired" : "FieldValueNotSupported",
                                     message: scope.isEmpty ? "Required value" : "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\"",
                                     field: "spec.scope"))
        }
        if !group.isEmpty && !plural.isEmpty && name != "\(plural).\(group)" {
            causes.append(FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group", field: "metadata.name"))
        }
        if !group.isEmpty && !group.contains(".") {
            causes.append(FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(group)\": should be a domain with at least one dot", field: "spec.group"))
        }
        for (field, value) in [("spec.names.plural", plural), ("spec.names.singular", singular)] where !value.isEmpty {
            causes += NameValidation.validateLabel(value, field: field)
        }
        let versions = crd[path: ["spec", "versions"]]?.arrayValue ?? []
        if versions.isEmpty {
            causes.append(FieldCause(reason: "FieldValueInvalid", message: "Invalid value: []apiextensions.CustomResourceDefinitionVersion(nil): must have exactly one version marked as storage version", field: "spec.versions"))
        }
        var served: [String] = []
        var storage: [String] = []
        var structural: [String: StructuralSchema] = [:]
        var openAPISchemas: [String: JSON] = [:]
        var printerColumns: [String: [PrinterColumn]] = [:]
        var hasStatus = false
        var schemaLists: ObjectSchema = .generic
        for (i, version) in versions.enumerated() {
            let versionName = version["name"]?.stringValue ?? ""
            if versionName.isEmpty {
                causes.append(FieldCause(reason: "FieldValueRequired", message: "Required value", field: "spec.versions[\(i)].name"))
                continue
            }
            if version["served"]?.boolValue ?? false { served.append(versionName) }
            if version["storage"]?.boolValue ?? false { storage.append(versionName) }
            if version[path: ["subresources", "status"]] != nil { hasStatus = true }
            guard let schemaJSON = version[path: ["schema", "openAPIV3Schema"]] else {
                causes.append(FieldCause(reason: "FieldValueRequired", message: "Required value: schemas are required", field: "spec.versions[\(i)].schema.openAPIV3Schema"))
                continue
            }
            openAPISchemas[versionName] = schemaJSON
            do {
                let schema = try StructuralSchema(json: schemaJSON, fieldPath: "spec.versions[\(i)].schema.openAPIV3Schema")
                structural[versionName] = schema
                if storage.last == versionName { schemaLists = schema.objectSchema() }
            } catch {
                causes += error.causes
            }
            printerColumns[versionName] = (version["additionalPrinterColumns"]?.arrayValue ?? []).compactMap { column in
                guard let name = column["name"]?.stringValue, let path = column["jsonPath"]?.stringValue else { return nil }
                return PrinterColumn(name: name, type: column["type"]?.stringValue ?? "string", jsonPath: path,
                                     description: column["description"]?.stringValue ?? "", priority: Int(column["priority"]?.intValue ?? 0))
            }
        }
        if !versions.isEmpty && storage.count != 1 {
            causes.append(FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \(versions.count): must have exactly one version marked as storage version", field: "spec.versions"))
        }
        if !causes.isEmpty { throw APIError.invalid(crdInfo, name: name, causes: causes) }
        if state.resources.lookup(GroupResource(group: group, resource: plural)).map({ !$0.isCustom }) == true {
            throw APIError.invalid(crdInfo, name: name, causes: [FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(plural)\": the resource is built in", field: "spec.names.plural")])
        }
        // Storage version first, then the other served versions.
        let ordered = storage + served.filter { $0 != storage[0] }
        var info = ResourceInfo(group: group, versions: ordered, resource: plural, singular: singular, kind: kind, namespaced: scope == "Namespaced")
        info.shortNames = crd[path: ["spec", "names", "shortNames"]]?.arrayValue?.compactMap(\.stringValue) ?? []
        info.categories = crd[path: ["spec", "names", "categories"]]?.arrayValue?.compactMap(\.stringValue) ?? []
        info.hasStatus = hasStatus
        info.tracksGeneration = true
        info.isCustom = true
        info.structural = structural
        info.openAPISchemas = openAPISchemas
        info.printerColumns = printerColumns
        info.schema = schemaLists
        return info
    }

    /// The status the CRD controllers would write: names accepted, established.
    static func establish(_ crd: JSON, info: ResourceInfo) -> JSON {
        var crd = crd
        let now = Timestamp.now()
        let existing = crd[path: ["status", "conditions"]]?.arrayValue ?? []
        func condition(_ type: String, _ reason: String, _ message: String) -> JSON {
            let previous = existing.first { $0["type"]?.stringValue == type }
            return ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message),
                    "lastTransitionTime": previous?["lastTransitionTime"] ?? .string(now)]
        }
        var names: JSON = crd[path: ["spec", "names"]] ?? .emptyObject
        names["singular"] = .string(info.singular)
        names["listKind"] = .string(info.listKind)
        crd["status"] = [
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
            ],
            "acceptedNames": names,
            "storedVersions": [.string(info.storageVersion)],
        ]
        return crd
    }
}
