import Testing
@testable import KubeCore

@Suite struct StructuralSchemaTests {
    static let schemaJSON: JSON = [
        "type": "object",
        "properties": [
            "apiVersion": ["type": "string"],
            "kind": ["type": "string"],
            "metadata": ["type": "object"],
            "spec": [
                "type": "object", "required": ["size"],
                "properties": [
                    "size": ["type": "integer", "minimum": 1, "maximum": 10],
                    "ratio": ["type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1.5],
                    "color": ["type": "string", "enum": ["red", "blue"], "default": "red"],
                    "name": ["type": "string", "pattern": "^[a-z]+$", "maxLength": 5, "minLength": 2],
                    "when": ["type": "string", "format": "date-time"],
                    "count": ["type": "integer", "format": "int32"],
                    "tags": ["type": "array", "items": ["type": "string"], "maxItems": 2, "x-kubernetes-list-type": "set"],
                    "ports": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"], "minItems": 1,
                        "items": [
                            "type": "object", "required": ["port"],
                            "properties": ["port": ["type": "integer"], "name": ["type": "string"], "protocol": ["type": "string", "default": "TCP"]],
                        ],
                    ],
                    "labels": ["type": "object", "additionalProperties": ["type": "string"], "maxProperties": 2],
                    "free": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                    "port": ["x-kubernetes-int-or-string": true],
                    "settings": ["type": "object", "default": [:], "properties": ["mode": ["type": "string", "default": "fast"]]],
                    "note": ["type": "string", "nullable": true],
                    "template": ["type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true],
                    "groups": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                        "items": [
                            "type": "object", "required": ["name"],
                            "properties": ["name": ["type": "string"], "members": ["type": "array", "items": ["type": "string"], "x-kubernetes-list-type": "set"]],
                        ],
                    ],
                ],
            ],
            "status": ["type": "object", "properties": ["ready": ["type": "boolean"]]],
        ],
    ]

    let schema: StructuralSchema

    init() throws { schema = try StructuralSchema(json: Self.schemaJSON) }

    func widget(_ spec: JSON) -> JSON { ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": spec] }

    func causes(_ spec: JSON) -> [FieldCause] { schema.validate(widget(spec)) }

    func rejection(_ json: JSON) -> [FieldCause] {
        do {
            _ = try StructuralSchema(json: json, fieldPath: "spec.versions[0].schema.openAPIV3Schema")
            return []
        } catch {
            return error.causes
        }
    }

    func spec(_ properties: JSON) -> JSON {
        ["type": "object", "properties": ["spec": ["type": "object", "properties": properties]]]
    }

    // MARK: Validation

    @Test func validObjectHasNoCauses() {
        #expect(causes(["size": 3, "color": "blue", "tags": ["a"], "port": "http", "when": "2024-02-29T10:00:00.5+01:00", "ports": [["port": 80]]]).isEmpty)
        #expect(causes(["size": .double(3)]).isEmpty)
        #expect(causes(["size": 1, "port": 8080, "note": .null]).isEmpty)
    }

    @Test func wrongTypesAreTypeInvalidWithTheKubeOpenAPIMessage() {
        #expect(causes(["size": "big"]) == [FieldCause(reason: "FieldValueTypeInvalid", message: #"Invalid value: "string": spec.size in body must be of type integer: "string""#, field: "spec.size")])
        #expect(causes(["size": 1, "port": true]).map(\.message) == [#"Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#])
        #expect(causes(["size": 1, "labels": ["a": 1]]) == [FieldCause.typeInvalid("spec.labels.a", "integer", #"spec.labels.a in body must be of type string: "integer""#)])
    }

    @Test func fractionalNumbersForIntegersAlsoFailTheRangeCheck() {
        #expect(causes(["size": 2.5]) == [
            FieldCause.typeInvalid("spec.size", "number", #"spec.size in body must be of type integer: "number""#),
            FieldCause.invalid("<nil>", "", "Checked value must be of type integer (default format) in spec.size"),
        ])
    }

    @Test func nullNeedsNullable() {
        #expect(causes(["size": 1, "color": .null]) == [
            FieldCause.typeInvalid("spec.color", "null", #"spec.color in body must be of type string: "null""#),
            FieldCause(reason: "FieldValueNotSupported", message: #"Unsupported value: null: supported values: "red", "blue""#, field: "spec.color"),
        ])
    }

    @Test func missingRequiredFieldsAreRequiredValues() {
        #expect(causes(["color": "red"]) == [FieldCause(reason: "FieldValueRequired", message: "Required value", field: "spec.size")])
        #expect(causes(["size": 1, "ports": [["name": "http"]]]) == [FieldCause.required("spec.ports[0].port")])
        let noSpec = schema.validate(["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"]])
        #expect(noSpec.isEmpty)
    }

    @Test func enumsListTheSupportedValues() {
        #expect(causes(["size": 1, "color": "pink"]) == [FieldCause(reason: "FieldValueNotSupported", message: #"Unsupported value: "pink": supported values: "red", "blue""#, field: "spec.color")])
    }

    @Test func boundsPrintTheBoundAsGoDoes() {
        #expect(causes(["size": 0]).map(\.message) == ["Invalid value: 0: spec.size in body should be greater than or equal to 1"])
        #expect(causes(["size": 11]).map(\.message) == ["Invalid value: 11: spec.size in body should be less than or equal to 10"])
        #expect(causes(["size": 1, "ratio": 0]).map(\.message) == ["Invalid value: 0: spec.ratio in body should be greater than 0"])
        #expect(causes(["size": 1, "ratio": 1.75]).map(\.message) == ["Invalid value: 1.75: spec.ratio in body should be less than or equal to 1.5"])
        #expect(causes(["size": 1, "ratio": 1.5]).isEmpty)
    }

    @Test func stringsStopAtTheirFirstProblem() {
        #expect(causes(["size": 1, "name": "ABCDEFG"]) == [FieldCause(reason: "FieldValueTooLong", message: "Too long: may not be more than 5 bytes", field: "spec.name")])
        #expect(causes(["size": 1, "name": "a"]).map(\.message) == [#"Invalid value: "a": spec.name in body should be at least 2 chars long"#])
        #expect(causes(["size": 1, "name": "Abc"]).map(\.message) == [#"Invalid value: "Abc": spec.name in body should match '^[a-z]+$'"#])
    }

    @Test func formatsTheApiServerSupportsAreChecked() {
        #expect(causes(["size": 1, "when": "yesterday"]) == [FieldCause.typeInvalid("spec.when", "yesterday", #"spec.when in body must be of type date-time: "yesterday""#)])
        #expect(causes(["size": 1, "when": "2023-02-29T10:00:00Z"]).count == 1)
        #expect(causes(["size": 1, "when": 5]).map(\.message) == [#"Invalid value: "int64": spec.when in body must be of type date-time: "int64""#])
        // int32 is stripped by the API server, so it restricts nothing.
        #expect(causes(["size": 1, "count": 9_999_999_999]).isEmpty)
    }

    @Test func arraysCheckCountsAndEveryItemWithItsIndex() {
        #expect(causes(["size": 1, "tags": ["a", "b", "c"]]) == [FieldCause(reason: "FieldValueTooMany", message: "Too many: 3: must have at most 2 items", field: "spec.tags")])
        #expect(causes(["size": 1, "ports": []]).map(\.message) == ["Invalid value: 0: spec.ports in body should have at least 1 items"])
        #expect(causes(["size": 1, "ports": [["port": 1], ["port": 2], ["port": 3, "name": 7]]]).map(\.field) == ["spec.ports[2].name"])
        #expect(causes(["size": 1, "tags": [1]]).map(\.message) == [#"Invalid value: "integer": spec.tags[0] in body must be of type string: "integer""#])
    }

    @Test func objectsCheckPropertyCounts() {
        #expect(causes(["size": 1, "labels": ["a": "1", "b": "2", "c": "3"]]) == [FieldCause.tooMany("spec.labels", actual: 3, max: 2)])
    }

    @Test func setsAndMapsMayNotRepeatElementsOrKeys() {
        #expect(causes(["size": 1, "tags": ["a", "a"]]) == [FieldCause(reason: "FieldValueDuplicate", message: #"Duplicate value: "a""#, field: "spec.tags[1]")])
        #expect(causes(["size": 1, "ports": [["port": 1, "name": "a"], ["port": 2], ["port": 1, "name": "b"]]]) == [FieldCause.duplicate("spec.ports[2]", ["port": 1])])
        #expect(causes(["size": 1, "groups": [["name": "g", "members": ["x", "y", "x"]]]]) == [FieldCause.duplicate("spec.groups[0].members[2]", "x")])
    }

    @Test func embeddedResourcesNeedApiVersionKindAndValidMetadata() {
        #expect(causes(["size": 1, "template": ["kind": "Pod", "spec": ["anything": true]]]) == [FieldCause.required("spec.template.apiVersion")])
        #expect(causes(["size": 1, "template": ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "a/b"]]]) == [FieldCause.invalid("spec.template.metadata.name", "a/b", "may not contain '/'")])
        #expect(causes(["size": 1, "template": ["apiVersion": "a/b/c", "kind": "Pod_"]]).map(\.field) == ["spec.template.apiVersion", "spec.template.kind"])
    }

    // MARK: Pruning

    @Test func pruningDropsUnknownFieldsButKeepsPreservedAndMetaFields() {
        var object = widget(["size": 1, "bogus": true, "free": ["anything": ["goes": 1]], "ports": [["port": 1, "extra": 2]],
                             "template": ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": ["x": 1]]])
        object["top"] = 1
        let pruned = schema.prune(object)
        #expect(pruned["top"] == nil)
        #expect(pruned[path: ["spec", "bogus"]] == nil)
        #expect(pruned[path: ["spec", "ports"]] == [["port": 1]])
        #expect(pruned[path: ["spec", "free", "anything", "goes"]] == 1)
        #expect(pruned[path: ["spec", "template", "spec", "x"]] == 1)
        #expect(pruned["metadata"] == ["name": "w"])
        #expect(pruned["apiVersion"] == "example.com/v1")
        #expect(schema.unknownFields(object) == ["spec.bogus", "spec.ports[0].extra", "top"])
    }

    @Test func schemalessRootKeepsOnlyMetaFields() throws {
        let open = try StructuralSchema(json: ["type": "object"])
        #expect(open.prune(["apiVersion": "v1", "kind": "K", "metadata": ["name": "n"], "spec": ["a": 1]]) == ["apiVersion": "v1", "kind": "K", "metadata": ["name": "n"]])
    }

    // MARK: Defaulting

    @Test func defaultsFillAbsentFieldsRecursively() {
        let defaulted = schema.applyDefaults(widget(["size": 1, "ports": [["port": 80], ["port": 81, "protocol": "UDP"]]]))
        #expect(defaulted[path: ["spec", "color"]] == "red")
        #expect(defaulted[path: ["spec", "settings"]] == ["mode": "fast"])
        #expect(defaulted[path: ["spec", "ports"]] == [["port": 80, "protocol": "TCP"], ["port": 81, "protocol": "UDP"]])
        #expect(schema.applyDefaults(widget(["size": 1, "color": "blue"]))[path: ["spec", "color"]] == "blue")
    }

    @Test func nullsAreDefaultedOrDroppedUnlessNullable() {
        let defaulted = schema.applyDefaults(widget(["size": 1, "color": .null, "name": .null, "note": .null]))
        #expect(defaulted[path: ["spec", "color"]] == "red")
        #expect(defaulted["spec"]?["name"] == nil)
        #expect(defaulted[path: ["spec", "note"]] == .null)
    }

    // MARK: List types

    @Test func listTypesBecomeTheObjectSchema() {
        let lists = schema.objectSchema()
        #expect(lists.listType(at: ["spec", "tags"]) == .set)
        #expect(lists.listType(at: ["spec", "ports"]) == .map(keys: ["port"]))
        #expect(lists.listType(at: ["spec", "groups", "members"]) == .set)
        #expect(lists.listType(at: ["spec", "other"]) == .atomic)
        #expect(lists.listType(at: ["metadata", "finalizers"]) == .set)
    }

    // MARK: Schema acceptance

    @Test func missingTypesAreRequiredWithTheirPaths() {
        let causes = rejection(["type": "object", "properties": ["spec": ["properties": ["list": ["type": "array", "items": ["properties": [:]]]]]]])
        #expect(causes.map(\.description) == [
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list].items.type: Required value: must not be empty for specified array items",
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
        ])
        #expect(rejection(["properties": [:]]).map(\.description) == ["spec.versions[0].schema.openAPIV3Schema.type: Required value: must not be empty at the root"])
    }

    @Test func unknownTypesAreUnsupported() {
        #expect(rejection(spec(["x": ["type": "strng"]])).map(\.description) == [
            #"spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[x].type: Unsupported value: "strng": supported values: "array", "boolean", "integer", "number", "object", "string""#,
        ])
    }

    @Test func preservedAndIntOrStringFieldsNeedNoType() {
        #expect(rejection(spec(["free": ["x-kubernetes-preserve-unknown-fields": true], "port": ["x-kubernetes-int-or-string": true]])).isEmpty)
    }

    @Test func structuralRulesAreEnforced() {
        let causes = rejection(["type": "string"]) + rejection(spec(["list": ["type": "array"]]))
            + rejection(["type": "object", "properties": ["metadata": ["type": "object", "properties": ["labels": ["type": "object"]]]]])
            + rejection(spec(["both": ["type": "object", "properties": ["a": ["type": "string"]], "additionalProperties": ["type": "string"]]]))
        #expect(causes.map(\.description) == [
            #"spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "string": must be object at the root"#,
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list].items: Required value: must be specified",
            "spec.versions[0].schema.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[both].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
        ])
    }

    @Test func listTypeRulesAreEnforced() {
        let causes = rejection(spec([
            "noKeys": ["type": "array", "x-kubernetes-list-type": "map", "items": ["type": "object"]],
            "optionalKey": ["type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": ["type": "object", "properties": ["k": ["type": "string"]]]],
            "weird": ["type": "array", "x-kubernetes-list-type": "bag", "items": ["type": "string"]],
        ]))
        #expect(causes.map(\.description) == [
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[noKeys].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map",
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[optionalKey].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            #"spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[weird].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#,
        ])
    }

    @Test func defaultsMustValidateAgainstTheirOwnSchema() {
        let causes = rejection(spec(["size": ["type": "integer", "default": "three"], "obj": ["type": "object", "default": ["zzz": 1], "properties": ["a": ["type": "string"]]]]))
        #expect(causes.map(\.description) == [
            #"spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[obj].default: Invalid value: {"zzz":1}: must not have unknown fields"#,
            #"spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].default: Invalid value: "string":  in body must be of type integer: "string""#,
        ])
    }

    @Test func unsupportedKeywordsAndBadPatternsAreRejected() {
        let causes = rejection(spec(["ref": ["$ref": "#/definitions/x"], "bad": ["type": "string", "pattern": "("], "ahead": ["type": "string", "pattern": "a(?=b)"]]))
        #expect(causes.map(\.field) == [
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[ahead].pattern",
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[bad].pattern",
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[ref].type",
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[ref].$ref",
        ])
        #expect(causes[0].message == #"Invalid value: "a(?=b)": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"#)
        #expect(causes[1].message.hasPrefix(#"Invalid value: "(": must be a valid regular expression, but isn't: error parsing regexp:"#))
        #expect(causes[3].message == "Forbidden: $ref is not supported")
    }

    @Test func keywordsOfTheWrongJSONTypeAreReported() {
        #expect(rejection(spec(["x": ["type": 5]])).first?.description == "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[x].type: Invalid value: 5: must be of type string")
    }
}
