import Testing
@testable import KubeCore

@Suite struct LabelSelectorTests {
    let web: [String: String] = ["app": "web", "tier": "front"]
    let db: [String: String] = ["app": "db"]

    func matches(_ text: String, _ labels: [String: String]) throws -> Bool {
        try LabelSelector(parsing: text).matches(labels)
    }

    @Test func equalityOperators() throws {
        #expect(try matches("app=web", web))
        #expect(try matches("app==web", web))
        #expect(try !matches("app=web", db))
        #expect(try matches("app!=web", db))
        #expect(try matches("app!=web", [:]))
    }

    @Test func setOperatorsAndExistence() throws {
        #expect(try matches("app in (web, db)", db))
        #expect(try !matches("app notin (web,db)", db))
        #expect(try matches("app notin (web)", [:]))
        #expect(try matches("tier", web))
        #expect(try !matches("tier", db))
        #expect(try matches("!tier", db))
        #expect(try matches(" app = web , tier ", web))
        #expect(try LabelSelector(parsing: "").matches(["any": "thing"]))
    }

    @Test func rendersBack() throws {
        #expect(try LabelSelector(parsing: "a=b,c in (x,y),!d,e").description == "a=b,c in (x,y),!d,e")
    }

    @Test func badSelectorsSayWhatWasExpected() {
        let cases: [(String, String)] = [
            ("a in (b", "expected: ',', or ')'"),
            ("a in b", "expected: '('"),
            ("a=b,", "identifier after ','"),
            ("a b", "expected: in, notin, =, ==, !=, gt, lt"),
            ("-bad=x", "invalid label key"),
            ("a=b c", "expected: ',' or 'end of string'"),
            ("a=" + String(repeating: "x", count: 64), "must be no more than 63 characters"),
        ]
        for (text, fragment) in cases {
            do {
                _ = try LabelSelector(parsing: text)
                Issue.record("expected \"\(text)\" to be rejected")
            } catch {
                #expect(error.message.contains(fragment), "\(text): \(error.message)")
            }
        }
    }

    @Test func jsonForm() throws {
        let selector = try LabelSelector(json: ["matchLabels": ["app": "web"], "matchExpressions": [["key": "tier", "operator": "In", "values": ["front"]], ["key": "gone", "operator": "DoesNotExist"]]])
        #expect(selector.matches(web))
        #expect(!selector.matches(db))
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "Near"]]]) }
    }
}

@Suite struct FieldSelectorTests {
    @Test func equalityAndInequalityWithEscapes() throws {
        let selector = try FieldSelector(parsing: #"metadata.name=a\,b,status.phase!=Running"#)
        #expect(selector.requirements.count == 2)
        #expect(selector.matches { ["metadata.name": "a,b", "status.phase": "Pending"][$0] })
        #expect(!selector.matches { ["metadata.name": "a,b", "status.phase": "Running"][$0] })
        #expect(try FieldSelector(parsing: "metadata.name==x").matches { _ in "x" })
    }

    @Test func unsupportedFieldsAreNamed() throws {
        let selector = try FieldSelector(parsing: "spec.nope=1")
        #expect(selector.unsupportedFieldError(supported: ["metadata.name"]) == "field label not supported: spec.nope")
        #expect(throws: FieldSelector.ParseError.self) { try FieldSelector(parsing: "justaword") }
    }
}

@Suite struct NameValidationTests {
    @Test func subdomainsAndLabels() {
        #expect(NameValidation.validateSubdomain("my.app-1", field: "metadata.name").isEmpty)
        let bad = NameValidation.validateSubdomain("Not_Valid", field: "metadata.name")
        #expect(bad.count == 1)
        #expect(bad[0].reason == "FieldValueInvalid")
        #expect(bad[0].message.hasPrefix("Invalid value: \"Not_Valid\": a lowercase RFC 1123 subdomain must consist of"))
        #expect(NameValidation.validateLabel("has.dot", field: "metadata.name").first?.message.contains("RFC 1123 label") == true)
        #expect(NameValidation.validateLabel(String(repeating: "a", count: 64), field: "x").contains { $0.message.contains("no more than 63") })
        #expect(NameValidation.validateSubdomain("", field: "metadata.name").first?.reason == "FieldValueRequired")
    }

    @Test func labelsAndAnnotations() {
        let causes = NameValidation.validateMetadataMaps(["labels": ["good": "ok", "bad key": "v", "k": "bad value!"], "annotations": ["example.com/x": "y"]])
        #expect(causes.count == 2)
        #expect(causes.allSatisfy { $0.field == "metadata.labels" })
        let huge = NameValidation.validateMetadataMaps(["annotations": ["a": .string(String(repeating: "x", count: 300_000))]])
        #expect(huge.first?.reason == "FieldValueTooLong")
    }
}
