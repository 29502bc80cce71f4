/// Validation of a value against a schema as kube-openapi's `SchemaValidator`
/// does it for kube-apiserver, converted to causes as apiextensions does.
///
/// Kept close to the original on purpose: per node the checks run in the
/// same order (type, string, format, number, array, enum, object), each
/// applies by the JSON kind of the value (so a wrong type can produce more
/// than one cause), and messages use the dotted `name in body …` form.
/// Properties and map keys are visited in sorted order so output is stable.
struct SchemaValueValidator {
    /// The field path causes are relative to. The API server passes none when
    /// validating a whole object, so a root-level cause prints as `<nil>`.
    let base: String?
    var causes: [FieldCause] = []

    init(base: String?) { self.base = base }

    /// The field of a cause about `name` (a kube-openapi path like `.spec.size`).
    func field(_ name: String) -> String {
        let trimmed = name.hasPrefix(".") ? String(name.dropFirst()) : name
        if trimmed.isEmpty { return base ?? "<nil>" }
        return base.map { $0 + "." + trimmed } ?? trimmed
    }

    /// kube-openapi reports a few problems as plain errors, which the API
    /// server attaches to the base path with an empty value.
    mutating func plain(_ message: String) {
        causes.append(.invalid(base ?? "<nil>", .string(""), message))
    }

    mutating func validate(_ value: JSON, _ node: SchemaNode, name: String) {
        if value.isNull {
            let types = node.allowedTypes
            if !types.isEmpty && !types.contains("null") && !node.nullable {
                typeError(name, types.joined(separator: ","), "null")
            }
            checkEnum(value, node, name: name)
            return
        }
        checkType(value, node, name: name)
        if let s = value.stringValue {
            checkString(s, node, name: name)
            if let format = SchemaFormats.effective(node.format), !SchemaFormats.isValid(s, format: format) {
                causes.append(.typeInvalid(field(name), value, "\(name) in body must be of type \(format): \(GoFormat.quote(s))"))
            }
        }
        if value.doubleValue != nil { checkNumber(value, node, name: name) }
        if let elements = value.arrayValue { checkArray(elements, node, name: name) }
        checkEnum(value, node, name: name)
        if let members = value.objectValue { checkObject(members, node, name: name) }
    }

    mutating func typeError(_ name: String, _ expected: String, _ actual: String) {
        causes.append(.typeInvalid(field(name), .string(actual), "\(name) in body must be of type \(expected): \(GoFormat.quote(actual))"))
    }

    /// The kube-openapi type name of a value and the format Go would give it.
    static func typeInfo(_ value: JSON) -> (type: String, format: String) {
        switch value {
        case .int: return ("integer", "int64")
        case .double: return ("number", "float64")
        default: return (value.typeName, "")
        }
    }

    /// Within ±(2⁵³−1) and whole up to a relative error of 1e-9: what
    /// go-openapi accepts as a JSON integer (so 0.3 is a multiple of 0.1).
    static func isJSONInteger(_ d: Double) -> Bool {
        guard d.isFinite, abs(d) <= 9_007_199_254_740_991 else { return false }
        let whole = d.rounded()
        if d == whole { return true }
        return abs(d - whole) / (abs(d) + abs(whole)) < 1e-9
    }

    mutating func checkType(_ value: JSON, _ node: SchemaNode, name: String) {
        let types = node.allowedTypes
        let format = SchemaFormats.effective(node.format)
        guard !types.isEmpty || format != nil else { return }
        let (type, dataFormat) = Self.typeInfo(value)
        let isFloatInt = type == "number" && Self.isJSONInteger(value.doubleValue ?? 0) && types.contains("integer")
        let isIntFloat = type == "integer" && types.contains("number")
        let typeMatches = types.contains(type) || isFloatInt || isIntFloat
        let stringOrArray = value.stringValue != nil || value.arrayValue != nil
        if let format, !stringOrArray, !typeMatches {
            typeError(name, format, dataFormat)
            return
        }
        // A string format on a string-like value is left to the format check.
        if format != nil, stringOrArray, !types.contains("number"), !types.contains("integer") { return }
        if !typeMatches { typeError(name, types.joined(separator: ","), type) }
    }

    mutating func checkString(_ s: String, _ node: SchemaNode, name: String) {
        let length = Int64(s.unicodeScalars.count)
        if let maxLength = node.maxLength, length > maxLength {
            causes.append(.tooLong(field(name), max: Int(maxLength)))
            return
        }
        if let minLength = node.minLength, length < minLength {
            causes.append(.invalid(field(name), .string(s), "\(name) in body should be at least \(minLength) chars long"))
            return
        }
        guard let pattern = node.pattern else { return }
        if let regex = node.regex {
            if (try? regex.firstMatch(in: s)) == nil {
                causes.append(.invalid(field(name), .string(s), "\(name) in body should match '\(pattern)'"))
            }
        } else {
            causes.append(.invalid(field(name), .string(s), "\(name) in body should match '\(pattern), but pattern is invalid: \(node.patternError ?? "")'"))
        }
    }

    /// Go's `int64(f)` for the bounds: truncation, clamped instead of undefined.
    static func truncated(_ d: Double) -> Int64 {
        if d.isNaN { return 0 }
        if d >= 9.223372036854775807e18 { return .max }
        if d <= -9.223372036854775808e18 { return .min }
        return Int64(d.rounded(.towardZero))
    }

    mutating func checkNumber(_ value: JSON, _ node: SchemaNode, name: String) {
        let types = node.allowedTypes
        let integerOnly = types == ["integer"]
        /// Whether a number is acceptable for the declared type, as go-openapi's range check says.
        func fits(_ d: Double) -> Bool { !integerOnly || (d == d.rounded() && abs(d) < 9.223372036854775807e18) }
        let number = value.doubleValue ?? 0
        if case .double(let d) = value, !fits(d) {
            plain("Checked value must be of type integer (default format) in \(name)")
        }
        if let factor = node.multipleOf {
            if fits(factor), case .int(let i) = value {
                let f = Self.truncated(factor)
                if f <= 0 {
                    causes.append(.invalid(field(name), .int(f), "factor MultipleOf declared for \(name) must be positive: \(f)"))
                } else if i % f != 0 {
                    causes.append(.invalid(field(name), value, "\(name) in body should be a multiple of \(f)"))
                }
            } else {
                if !fits(factor) { plain("MultipleOf value must be of type integer (default format) in \(name)") }
                if factor <= 0 {
                    causes.append(.invalid(field(name), .double(factor), "factor MultipleOf declared for \(name) must be positive: \(GoFormat.float(factor))"))
                } else if !Self.isJSONInteger(factor < 1 ? 1 / factor * number : number / factor) {
                    causes.append(.invalid(field(name), .double(number), "\(name) in body should be a multiple of \(GoFormat.float(factor))"))
                }
            }
        }
        if let minimum = node.minimum {
            checkBound(value, minimum, exclusive: node.exclusiveMinimum, isMinimum: true, fitsType: fits(minimum), name: name)
        }
        if let maximum = node.maximum {
            checkBound(value, maximum, exclusive: node.exclusiveMaximum, isMinimum: false, fitsType: fits(maximum), name: name)
        }
    }

    /// Integers are compared with the bound truncated to an integer when the
    /// bound suits the type; otherwise both are compared as doubles.
    mutating func checkBound(_ value: JSON, _ bound: Double, exclusive: Bool, isMinimum: Bool, fitsType: Bool, name: String) {
        if !fitsType { plain("\(isMinimum ? "Minimum" : "Maximum") boundary value must be of type integer (default format) in \(name)") }
        let failed: Bool
        let shownBound: String
        var shownValue = value
        if fitsType, case .int(let i) = value {
            let b = Self.truncated(bound)
            failed = isMinimum ? (exclusive ? i <= b : i < b) : (exclusive ? i >= b : i > b)
            shownBound = String(b)
        } else {
            let d = value.doubleValue ?? 0
            failed = isMinimum ? (exclusive ? d <= bound : d < bound) : (exclusive ? d >= bound : d > bound)
            shownBound = GoFormat.float(bound)
            shownValue = .double(d)
        }
        guard failed else { return }
        let relation = isMinimum ? "greater than" : "less than"
        causes.append(.invalid(field(name), shownValue, "\(name) in body should be \(relation) \(exclusive ? "" : "or equal to ")\(shownBound)"))
    }

    mutating func checkArray(_ elements: [JSON], _ node: SchemaNode, name: String) {
        if let itemSchema = node.items {
            for (i, element) in elements.enumerated() { validate(element, itemSchema, name: "\(name)[\(i)]") }
        }
        if let minItems = node.minItems, elements.count < minItems {
            causes.append(.invalid(field(name), .int(Int64(elements.count)), "\(name) in body should have at least \(minItems) items"))
        }
        if let maxItems = node.maxItems, elements.count > maxItems {
            causes.append(.tooMany(field(name), actual: elements.count, max: Int(maxItems)))
        }
        if node.uniqueItems && Set(elements).count != elements.count {
            causes.append(.invalid(field(name), .string(""), "\(name) in body shouldn't contain duplicates"))
        }
    }

    /// Enum membership as Go's reflection sees it: equal values, or numbers
    /// equal after converting the value to the enum entry's type. Null never matches.
    static func enumContains(_ entries: [JSON], _ value: JSON) -> Bool {
        if value.isNull { return false }
        return entries.contains { entry in
            switch (value, entry) {
            case (.int(let i), .double(let d)): return Double(i) == d
            case (.double(let d), .int(let i)): return truncated(d) == i
            default: return value == entry
            }
        }
    }

    mutating func checkEnum(_ value: JSON, _ node: SchemaNode, name: String) {
        guard let entries = node.enumValues, !entries.isEmpty, !Self.enumContains(entries, value) else { return }
        causes.append(.notSupported(field(name), value, supported: entries.map { $0.stringValue ?? $0.serializedString() }))
    }

    mutating func checkObject(_ members: [String: JSON], _ node: SchemaNode, name: String) {
        if let minProperties = node.minProperties, members.count < minProperties {
            causes.append(.invalid(field(name), .int(Int64(members.count)), "\(name) in body should have at least \(minProperties) properties"))
        }
        if let maxProperties = node.maxProperties, members.count > maxProperties {
            causes.append(.tooMany(field(name), actual: members.count, max: Int(maxProperties)))
        }
        let others = members.keys.filter { node.properties[$0] == nil }.sorted()
        switch node.additionalProperties {
        case .allowed(false)?:
            for key in others {
                causes.append(.invalid(field(name), .string(key), "\(name).\(key) in body is a forbidden property"))
            }
        case .schema(let schema)?:
            for key in others { validate(members[key]!, schema, name: name + "." + key) }
        default:
            break
        }
        for (key, schema) in node.properties.sorted(by: { $0.key < $1.key }) {
            guard let child = members[key] else { continue }
            validate(child, schema, name: name.isEmpty ? key : name + "." + key)
        }
        for key in node.required where members[key] == nil {
            causes.append(.required(field(name + "." + key)))
        }
    }
}
