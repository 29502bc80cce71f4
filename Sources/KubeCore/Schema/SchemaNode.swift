/// One node of a CRD's `openAPIV3Schema`, read from its JSON.
///
/// Immutable and shared between requests, so it is a final class (schemas
/// are trees that can be deep; copying them per request would be wasteful).
/// Reading never fails: keywords of the wrong JSON type are reported as
/// causes and otherwise ignored, so all problems of a CRD surface at once.
public final class SchemaNode: Sendable {
    /// `additionalProperties`: a boolean or a schema for every other key.
    public enum AdditionalProperties: Sendable {
        case allowed(Bool)
        case schema(SchemaNode)

        var schema: SchemaNode? { if case .schema(let node) = self { return node } else { return nil } }
    }

    /// `""` when absent.
    public let type: String
    public let properties: [String: SchemaNode]
    public let items: SchemaNode?
    public let additionalProperties: AdditionalProperties?
    public let required: [String]
    public let enumValues: [JSON]?
    public let minimum: Double?
    public let maximum: Double?
    public let exclusiveMinimum: Bool
    public let exclusiveMaximum: Bool
    public let multipleOf: Double?
    public let minLength: Int64?
    public let maxLength: Int64?
    public let minItems: Int64?
    public let maxItems: Int64?
    public let uniqueItems: Bool
    public let minProperties: Int64?
    public let maxProperties: Int64?
    public let pattern: String?
    /// `pattern` compiled once. `Regex` is not declared Sendable, but a
    /// compiled regex is immutable and only read here.
    nonisolated(unsafe) let regex: Regex<AnyRegexOutput>?
    /// Why `pattern` did not compile, if it did not.
    let patternError: String?
    /// As written in the CRD; see `SchemaFormats` for which ones the API server checks.
    public let format: String?
    public let nullable: Bool
    public let defaultValue: JSON?
    public let description: String?
    public let title: String?
    public let preserveUnknownFields: Bool
    public let intOrString: Bool
    public let embeddedResource: Bool
    public let listType: String?
    public let listMapKeys: [String]
    public let mapType: String?
    /// `x-kubernetes-preserve-unknown-fields: false`, which CRDs may not say.
    let preserveUnknownFieldsIsFalse: Bool
    /// `items` given as an array of schemas (tuple validation), which CRDs may not use.
    let itemsIsArray: Bool
    /// Keywords the API server refuses (`$ref`, `definitions`, …) that are present.
    let unsupportedKeywords: [String]
    /// Whether `allOf`, `anyOf`, `oneOf` or `not` is present (accepted, not enforced).
    let hasCombinators: Bool

    /// Reads a schema node; `path` is where it sits in the CRD, for causes.
    init(_ json: JSON, path: String, problems: inout [FieldCause]) {
        let object: [String: JSON]
        if let members = json.objectValue {
            object = members
        } else {
            problems.append(.typeInvalid(path, json, "must be of type object"))
            object = [:]
        }
        var reader = KeywordReader(object: object, path: path, problems: problems)
        defer { problems = reader.problems }

        type = reader.string("type") ?? ""
        var properties: [String: SchemaNode] = [:]
        for (name, child) in reader.object("properties") ?? [:] {
            properties[name] = SchemaNode(child, path: "\(path).properties[\(name)]", problems: &reader.problems)
        }
        self.properties = properties
        if case .array = object["items"] {
            items = nil
            itemsIsArray = true
        } else {
            items = object["items"].map { SchemaNode($0, path: path + ".items", problems: &reader.problems) }
            itemsIsArray = false
        }
        switch object["additionalProperties"] {
        case nil: additionalProperties = nil
        case .bool(let allowed)?: additionalProperties = .allowed(allowed)
        case let value?: additionalProperties = .schema(SchemaNode(value, path: path + ".additionalProperties", problems: &reader.problems))
        }
        required = reader.strings("required") ?? []
        enumValues = reader.array("enum")
        minimum = reader.number("minimum")
        maximum = reader.number("maximum")
        exclusiveMinimum = reader.bool("exclusiveMinimum") ?? false
        exclusiveMaximum = reader.bool("exclusiveMaximum") ?? false
        multipleOf = reader.number("multipleOf")
        minLength = reader.integer("minLength")
        maxLength = reader.integer("maxLength")
        minItems = reader.integer("minItems")
        maxItems = reader.integer("maxItems")
        uniqueItems = reader.bool("uniqueItems") ?? false
        minProperties = reader.integer("minProperties")
        maxProperties = reader.integer("maxProperties")
        pattern = reader.string("pattern")
        (regex, patternError) = pattern.map(SchemaNode.compile) ?? (nil, nil)
        format = reader.string("format")
        nullable = reader.bool("nullable") ?? false
        defaultValue = object["default"]
        description = reader.string("description")
        title = reader.string("title")
        let preserve = reader.bool("x-kubernetes-preserve-unknown-fields")
        preserveUnknownFields = preserve == true
        preserveUnknownFieldsIsFalse = preserve == false
        intOrString = reader.bool("x-kubernetes-int-or-string") ?? false
        embeddedResource = reader.bool("x-kubernetes-embedded-resource") ?? false
        listType = reader.string("x-kubernetes-list-type")
        listMapKeys = reader.strings("x-kubernetes-list-map-keys") ?? []
        mapType = reader.string("x-kubernetes-map-type")
        unsupportedKeywords = ["id", "additionalItems", "patternProperties", "definitions", "dependencies", "$ref"].filter { object[$0] != nil }
        hasCombinators = ["allOf", "anyOf", "oneOf", "not"].contains { object[$0] != nil }
    }

    /// Compiles a pattern. Go's RE2 has no look-around or back-references, so
    /// those are refused with Go's wording even though Swift could run them.
    static func compile(_ pattern: String) -> (Regex<AnyRegexOutput>?, String?) {
        for construct in ["(?=", "(?!", "(?<=", "(?<!"] where pattern.contains(construct) {
            return (nil, "error parsing regexp: invalid or unsupported Perl syntax: `\(construct)`")
        }
        var escaped = false
        for c in pattern {
            if escaped, c.isASCII, let digit = c.wholeNumberValue, digit > 0 {
                return (nil, "error parsing regexp: invalid escape sequence: `\\\(c)`")
            }
            escaped = !escaped && c == "\\"
        }
        do {
            return (try Regex(pattern).matchingSemantics(.unicodeScalar), nil)
        } catch {
            return (nil, "error parsing regexp: \(error): `\(pattern)`")
        }
    }

    /// The JSON types the value may have, as kube-openapi names them
    /// (`x-kubernetes-int-or-string` means integer or string).
    var allowedTypes: [String] {
        if intOrString { return ["integer", "string"] }
        return type.isEmpty ? [] : [type]
    }
}

/// Reads typed keywords from a schema object, recording the ones of the wrong JSON type.
struct KeywordReader {
    let object: [String: JSON]
    let path: String
    var problems: [FieldCause]

    mutating func wrongType(_ key: String, _ expected: String) {
        problems.append(.typeInvalid("\(path).\(key)", object[key] ?? .null, "must be of type \(expected)"))
    }

    mutating func string(_ key: String) -> String? {
        guard let value = object[key] else { return nil }
        if let s = value.stringValue { return s }
        wrongType(key, "string")
        return nil
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = object[key] else { return nil }
        if let b = value.boolValue { return b }
        wrongType(key, "boolean")
        return nil
    }

    mutating func number(_ key: String) -> Double? {
        guard let value = object[key] else { return nil }
        if let d = value.doubleValue { return d }
        wrongType(key, "number")
        return nil
    }

    mutating func integer(_ key: String) -> Int64? {
        guard let value = object[key] else { return nil }
        if let i = value.intValue { return i }
        wrongType(key, "integer")
        return nil
    }

    mutating func array(_ key: String) -> [JSON]? {
        guard let value = object[key] else { return nil }
        if let a = value.arrayValue { return a }
        wrongType(key, "array")
        return nil
    }

    mutating func strings(_ key: String) -> [String]? {
        guard let items = array(key) else { return nil }
        let strings = items.compactMap(\.stringValue)
        if strings.count != items.count { wrongType(key, "array of strings") }
        return strings
    }

    mutating func object(_ key: String) -> [String: JSON]? {
        guard let value = object[key] else { return nil }
        if let o = value.objectValue { return o }
        wrongType(key, "object")
        return nil
    }
}
