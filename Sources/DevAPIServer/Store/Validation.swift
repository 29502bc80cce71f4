import KubeCore

extension Admission {
    /// Validates an object about to be stored and returns it as it will be stored:
    /// for custom resources, pruned of unknown fields and defaulted from the CRD schema.
    /// Throws 422 Invalid with one cause per problem, or 400 for strict unknown fields.
    static func validate(_ object: JSON, info: ResourceInfo, version: String, strictFields: Bool) throws(APIError) -> JSON {
        var object = object
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        var causes = NameValidation.validateObjectMeta(object["metadata"] ?? .emptyObject, namespaced: info.namespaced, nameRule: info.nameRule)
        causes += validateKind(object, info: info)

        if info.isCustom, let schema = info.structural[version] {
            if strictFields {
                let unknown = schema.unknownFields(object)
                if !unknown.isEmpty {
                    throw APIError.badRequest("strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
                }
            }
            object = schema.applyDefaults(schema.prune(object))
            causes += schema.validate(object)
        }
        if !causes.isEmpty { throw APIError.invalid(info, name: name, causes: causes) }
        return object
    }

    /// Checks of the built-in kinds that clients most often get wrong.
    static func validateKind(_ object: JSON, info: ResourceInfo) -> [FieldCause] {
        var causes: [FieldCause] = []
        switch (info.group, info.kind) {
        case ("", "ConfigMap"):
            for field in ["data", "binaryData"] {
                for (key, value) in object[field]?.objectValue ?? [:] where value.stringValue == nil {
                    causes.append(FieldCause(reason: "FieldValueTypeInvalid", message: "Invalid value: \(value.serializedString()): must be a string", field: "\(field)[\(key)]"))
                }
            }
        case ("", "Secret"):
            for (key, value) in object["data"]?.objectValue ?? [:] {
                if value.stringValue.flatMap(Base64.decode) == nil {
                    causes.append(FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \(value.serializedString()): must be base64-encoded bytes", field: "data[\(key)]"))
                }
            }
        case ("", "Pod"):
            causes += validatePodSpec(object["spec"], field: "spec")
        case ("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet"):
            let selector = object[path: ["spec", "selector"]]
            if selector == nil || selector?.objectValue?.isEmpty == true {
                causes.append(FieldCause(reason: "FieldValueRequired", message: "Required value", field: "spec.selector"))
            } else if let selector, let parsed = try? LabelSelector(json: selector) {
                let labels = (object[path: ["spec", "template", "metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                if !parsed.matches(labels) {
                    causes.append(FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \(JSON.object(labels.mapValues { .string($0) }).serializedString()): `selector` does not match template `labels`", field: "spec.template.metadata.labels"))
                }
            }
            causes += validatePodSpec(object[path: ["spec", "template", "spec"]], field: "spec.template.spec")
        case ("batch", "Job"):
            causes += validatePodSpec(object[path: ["spec", "template", "spec"]], field: "spec.template.spec")
        default:
            break
        }
        return causes
    }

    static func validatePodSpec(_ spec: JSON?, field: String) -> [FieldCause] {
        guard let containers = spec?["containers"]?.arrayValue, !containers.isEmpty else {
            return [FieldCause(reason: "FieldValueRequired", message: "Required value", field: "\(field).containers")]
        }
        var causes: [FieldCause] = []
        var names = Set<String>()
        for (i, container) in containers.enumerated() {
            let name = container["name"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(FieldCause(reason: "FieldValueRequired", message: "Required value", field: "\(field).containers[\(i)].name"))
            } else if !names.insert(name).inserted {
                causes.append(FieldCause(reason: "FieldValueDuplicate", message: "Duplicate value: \"\(name)\"", field: "\(field).containers[\(i)].name"))
            }
            if (container["image"]?.stringValue ?? "").isEmpty {
                causes.append(FieldCause(reason: "FieldValueRequired", message: "Required value", field: "\(field).containers[\(i)].image"))
            }
        }
        return causes
    }
}
