import Testing
@testable import KubeCore

@Suite struct StructuralSchemaTests {
    static let schemaJSON: JSON = [
        "type": "object",
        "properties": [
            "spec": [
                "type": "object", "required": ["size"],
                "properties": [
                    "size": ["type": "integer", "minimum": 1, "maximum": 10],
                    "color": ["type": "string", "enum": ["red", "blue"], "default": "red"],
                    "name": ["type": "string", "pattern": "^[a-z]+$", "maxLength": 5],
                    "tags": ["type": "array", "items": ["type": "string"], "maxItems": 2, "x-kubernetes-list-type": "set"],
                    "ports": ["type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
                              "items": ["type": "object", "properties": ["port": ["type": "integer"], "name": ["type": "string"]]]],
                    "free": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                    "port": ["x-kubernetes-int-or-string": true],
                ],
            ],
            "status": ["type": "object", "properties": ["ready": ["type": "boolean"]]],
        ],
    ]

    let schema = try! StructuralSchema(json: schemaJSON)

    func widget(_ spec: JSON) -> JSON { ["apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "w"], "spec": spec] }

    @Test func validObjectHasNoCauses() {
        #expect(schema.validate(widget(["size": 3, "color": "blue", "tags": ["a"], "port": "http"])).isEmpty)
    }

    @Test func eachProblemIsACauseWithItsPath() {
        let causes = schema.validate(widget(["size": "big", "color": "pink", "name": "ABCDEFG", "tags": ["a", "b", "c"], "ports": [["port": 1], ["port": 1]]]))
        let byField = Dictionary(grouping: causes, by: \.field)
        #expect(byField["spec.size"]?.first?.message == #"Invalid value: "string": spec.size in body must be of type integer: "string""#)
        #expect(byField["spec.size"]?.first?.reason == "FieldValueTypeInvalid")
        #expect(byField["spec.color"]?.first?.message == #"Unsupported value: "pink": supported values: "red", "blue""#)
        #expect(byField["spec.name"]?.contains { $0.message.contains("should match '^[a-z]+$'") } == true)
        #expect(byField["spec.name"]?.contains { $0.reason == "FieldValueTooLong" } == true)
        #expect(byField["spec.tags"]?.first?.reason == "FieldValueTooMany")
        #expect(byField["spec.ports[1]"]?.first?.reason == "FieldValueDuplicate")
    }

    @Test func requiredAndBounds() {
        let missing = schema.validate(widget(["color": "red"]))
        #expect(missing == [FieldCause(reason: "FieldValueRequired", message: "Required value", field: "spec.size")])
        let low = schema.validate(widget(["size": 0]))
        #expect(low.first?.message == "Invalid value: 0: spec.size in body should be greater than or equal to 1")
        let high = schema.validate(widget(["size": 11]))
        #expect(high.first?.message == "Invalid value: 11: spec.size in body should be less than or equal to 10")
    }

    @Test func pruningDropsUnknownFieldsButKeepsPreservedOnes() {
        let object = widget(["size": 1, "bogus": true, "free": ["anything": ["goes": 1]]])
        let pruned = schema.prune(object.with(extra: "top", 1))
        #expect(pruned["top"] == nil)
        #expect(pruned[path: ["spec", "bogus"]] == nil)
        #expect(pruned[path: ["spec", "free", "anything", "goes"]] == 1)
        #expect(pruned["metadata"] == ["name": "w"])
        #expect(schema.unknownFields(object.with(extra: "top", 1)) == ["spec.bogus", "top"])
    }

    @Test func defaultsFillAbsentFields() {
        #expect(schema.applyDefaults(widget(["size": 1]))[path: ["spec", "color"]] == "red")
        #expect(schema.applyDefaults(widget(["size": 1, "color": "blue"]))[path: ["spec", "color"]] == "blue")
    }

    @Test func listTypesBecomeTheObjectSchema() {
        let lists = schema.objectSchema()
        #expect(lists.listType(at: ["spec", "tags"]) == .set)
        #expect(lists.listType(at: ["spec", "ports"]) == .map(keys: ["port"]))
        #expect(lists.listType(at: ["spec", "other"]) == .atomic)
    }

    @Test func nonStructuralSchemasAreRejectedWithPaths() {
        do {
            _ = try StructuralSchema(json: ["type": "object", "properties": ["spec": ["properties": ["x": ["type": "strng"]]]]], fieldPath: "spec.versions[0].schema.openAPIV3Schema")
            Issue.record("expected rejection")
        } catch {
            let fields = Set(error.causes.map(\.field))
            #expect(fields.contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].type"))
            #expect(fields.contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[x].type"))
        }
    }
}

extension JSON {
    func with(extra key: String, _ value: JSON) -> JSON {
        var copy = self
        copy[key] = value
        return copy
    }
}
