/// The API form of a label selector (`metav1.LabelSelector`): converting it
/// for matching, and checking it as a field of an object.
extension LabelSelector {
    /// `LabelSelectorAsSelector`: `matchLabels` become `=` requirements,
    /// `matchExpressions` use `In`, `NotIn`, `Exists`, `DoesNotExist`.
    /// A JSON null is the selector that matches nothing; an empty object matches everything.
    public init(json: JSON) throws(ParseError) {
        if json.isNull {
            self = .nothing
            return
        }
        guard let object = json.objectValue else {
            throw ParseError(message: "label selector must be an object, not \(json.typeName)")
        }
        var requirements: [Requirement] = []
        for (key, value) in (object["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let text = value.stringValue else {
                throw ParseError(message: "matchLabels[\(key)]: must be a string, not \(value.typeName)")
            }
            requirements.append(try Requirement(key: key, op: .equals, values: [text]))
        }
        for expression in object["matchExpressions"]?.arrayValue ?? [] {
            let op = expression["operator"]?.stringValue ?? ""
            guard let mapped = Self.apiOperators[op] else {
                throw ParseError(message: "\(GoFormat.quote(op)) is not a valid label selector operator")
            }
            let values = expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            requirements.append(try Requirement(key: expression["key"]?.stringValue ?? "", op: mapped, values: values))
        }
        self.init(requirements: requirements)
    }

    static let apiOperators: [String: Operator] = ["In": .in, "NotIn": .notIn, "Exists": .exists, "DoesNotExist": .doesNotExist]

    /// `ValidateLabelSelector`: the causes for a selector stored at `field`
    /// (for example `spec.selector`), as a create or update would report them.
    public static func validate(json: JSON, field: String) -> [FieldCause] {
        var causes = NameValidation.validateLabels(json["matchLabels"], field: field + ".matchLabels")
        for (i, expression) in (json["matchExpressions"]?.arrayValue ?? []).enumerated() {
            let path = "\(field).matchExpressions[\(i)]"
            let values = expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let op = expression["operator"]?.stringValue ?? ""
            switch op {
            case "In", "NotIn":
                if values.isEmpty { causes.append(.required(path + ".values", "must be specified when `operator` is 'In' or 'NotIn'")) }
            case "Exists", "DoesNotExist":
                if !values.isEmpty { causes.append(.forbidden(path + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
            default:
                causes.append(.invalid(path + ".operator", .string(op), "not a valid selector operator"))
            }
            let key = expression["key"]?.stringValue ?? ""
            causes += NameValidation.causes(key, field: path + ".key", NameValidation.qualifiedNameProblems(key))
            for (j, value) in values.enumerated() {
                causes += NameValidation.causes(value, field: "\(path).values[\(j)]", NameValidation.labelValueProblems(value))
            }
        }
        return causes
    }
}
