/// apimachinery's `ValidateObjectMeta`: the checks every object's `metadata`
/// gets on create, in the order the API server reports them (generateName,
/// name, namespace, generation, labels, annotations, ownerReferences, finalizers).
extension NameValidation {
    /// Total size of keys plus values that annotations may use: 256 KiB.
    public static let totalAnnotationSizeLimit = 256 * 1024

    /// Every cause for an object's metadata. `namespaced` says whether the kind
    /// lives in namespaces (then `namespace` is required, else forbidden).
    public static func validateObjectMeta(_ metadata: JSON, namespaced: Bool, nameRule: NameRule, field: String = "metadata") -> [FieldCause] {
        var causes: [FieldCause] = []
        let generateName = metadata["generateName"]?.stringValue ?? ""
        if !generateName.isEmpty {
            causes += Self.causes(generateName, field: field + ".generateName", nameProblems(generateName, rule: nameRule, prefix: true))
        }
        causes += validateName(metadata["name"]?.stringValue ?? "", rule: nameRule, field: field + ".name")
        let namespace = metadata["namespace"]?.stringValue ?? ""
        if namespaced {
            causes += namespace.isEmpty
                ? [.required(field + ".namespace")]
                : Self.causes(namespace, field: field + ".namespace", dns1123LabelProblems(namespace))
        } else if !namespace.isEmpty {
            causes.append(.forbidden(field + ".namespace", "not allowed on this type"))
        }
        if let generation = metadata["generation"]?.intValue, generation < 0 {
            causes.append(.invalid(field + ".generation", .int(generation), "must be greater than or equal to 0"))
        }
        causes += validateLabels(metadata["labels"], field: field + ".labels")
        causes += validateAnnotations(metadata["annotations"], field: field + ".annotations")
        causes += validateOwnerReferences(metadata["ownerReferences"], field: field + ".ownerReferences")
        causes += validateFinalizers(metadata["finalizers"], field: field + ".finalizers")
        return causes
    }

    /// Labels and annotations of `metadata`, for callers that check names themselves.
    public static func validateMetadataMaps(_ metadata: JSON) -> [FieldCause] {
        validateLabels(metadata["labels"], field: "metadata.labels") + validateAnnotations(metadata["annotations"], field: "metadata.annotations")
    }

    /// Keys are qualified names and values label values; causes name the map, not the key.
    public static func validateLabels(_ labels: JSON?, field: String = "metadata.labels") -> [FieldCause] {
        var causes: [FieldCause] = []
        for (key, value) in (labels?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            causes += Self.causes(key, field: field, qualifiedNameProblems(key))
            guard let text = value.stringValue else {
                causes.append(.typeInvalid(field, value, "must be of type string"))
                continue
            }
            causes += Self.causes(text, field: field, labelValueProblems(text))
        }
        return causes
    }

    /// Keys are qualified names once lowercased (the original key is shown);
    /// keys and values together may not exceed 256 KiB.
    public static func validateAnnotations(_ annotations: JSON?, field: String = "metadata.annotations") -> [FieldCause] {
        var causes: [FieldCause] = []
        var total = 0
        for (key, value) in (annotations?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            causes += qualifiedNameProblems(key.lowercased()).map { FieldCause.invalid(field, .string(key), $0) }
            guard let text = value.stringValue else {
                causes.append(.typeInvalid(field, value, "must be of type string"))
                continue
            }
            total += key.utf8.count + text.utf8.count
        }
        if total > totalAnnotationSizeLimit { causes.append(.tooLong(field, max: totalAnnotationSizeLimit)) }
        return causes
    }

    /// Finalizers are qualified names, and `orphan` excludes `foregroundDeletion`.
    public static func validateFinalizers(_ finalizers: JSON?, field: String = "metadata.finalizers") -> [FieldCause] {
        let names = finalizers?.arrayValue?.compactMap(\.stringValue) ?? []
        var causes = names.flatMap { Self.causes($0, field: field, qualifiedNameProblems($0)) }
        if names.contains("orphan") && names.contains("foregroundDeletion") {
            causes.append(.invalid(field, .array(names.map(JSON.string)), "finalizer orphan and foregroundDeletion cannot be both set"))
        }
        return causes
    }

    /// Each owner reference needs a versioned apiVersion, kind, name and uid;
    /// at most one may be the controller.
    public static func validateOwnerReferences(_ references: JSON?, field: String = "metadata.ownerReferences") -> [FieldCause] {
        var causes: [FieldCause] = []
        var controller: String?
        let list = references?.arrayValue ?? []
        for reference in list {
            let apiVersion = reference["apiVersion"]?.stringValue ?? ""
            let kind = reference["kind"]?.stringValue ?? ""
            let slashes = apiVersion.filter { $0 == "/" }.count
            let version = slashes == 0 ? apiVersion : slashes == 1 ? String(apiVersion.split(separator: "/", omittingEmptySubsequences: false)[1]) : ""
            if version.isEmpty { causes.append(.invalid(field + ".apiVersion", .string(apiVersion), "version must not be empty")) }
            if kind.isEmpty { causes.append(.invalid(field + ".kind", .string(kind), "must not be empty")) }
            for key in ["name", "uid"] where (reference[key]?.stringValue ?? "").isEmpty {
                causes.append(.invalid(field + "." + key, .string(""), "must not be empty"))
            }
            if reference["controller"]?.boolValue == true {
                let this = kind + "/" + (reference["name"]?.stringValue ?? "")
                if let controller {
                    causes.append(.invalid(field, .array(list), "Only one reference can have Controller set to true. Found \"true\" in references for \(controller) and \(this)"))
                } else {
                    controller = this
                }
            }
        }
        return causes
    }
}
