import Testing
@testable import KubeCore

@Suite struct LabelSelectorTests {
    let web: [String: String] = ["app": "web", "tier": "front", "replicas": "3"]
    let db: [String: String] = ["app": "db"]

    func matches(_ text: String, _ labels: [String: String]) throws -> Bool {
        try LabelSelector(parsing: text).matches(labels)
    }

    func parseError(_ text: String) -> String? {
        do {
            _ = try LabelSelector(parsing: text)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func equalityOperatorsCompareTheValue() throws {
        #expect(try matches("app=web", web))
        #expect(try matches("app==web", web))
        #expect(try !matches("app=web", db))
        #expect(try !matches("app=web", [:]))
        #expect(try matches("app!=web", db))
        #expect(try matches("app!=web", [:]))
        #expect(try !matches("app!=web", web))
        #expect(try matches("missing=", [:]) == false)
        #expect(try matches("app=", ["app": ""]))
    }

    @Test func setOperatorsTestMembership() throws {
        #expect(try matches("app in (web, db)", db))
        #expect(try !matches("app in (web)", db))
        #expect(try !matches("app in (web)", [:]))
        #expect(try !matches("app notin (web,db)", db))
        #expect(try matches("app notin (web)", db))
        #expect(try matches("app notin (web)", [:]))
        #expect(try matches("app in (,web)", ["app": ""]))
    }

    @Test func existenceOperatorsLookOnlyAtKeys() throws {
        #expect(try matches("tier", web))
        #expect(try !matches("tier", db))
        #expect(try matches("!tier", db))
        #expect(try !matches("!tier", web))
    }

    @Test func numericComparisonsNeedIntegerLabels() throws {
        #expect(try matches("replicas>2", web))
        #expect(try !matches("replicas>3", web))
        #expect(try matches("replicas<4", web))
        #expect(try !matches("replicas<4", ["replicas": "many"]))
        #expect(try !matches("replicas<4", [:]))
    }

    @Test func requirementsAreAndedAndWhiteSpaceIsIgnored() throws {
        #expect(try matches(" app = web ,\ttier ,\n!canary ", web))
        #expect(try !matches("app=web,tier=back", web))
    }

    @Test func emptySelectorMatchesEverything() throws {
        let selector = try LabelSelector(parsing: "")
        #expect(selector.isEmpty)
        #expect(selector.matches(["any": "thing"]))
        #expect(selector.matches([:]))
    }

    @Test func keywordsAreOrdinaryWordsOutsideTheOperatorPosition() throws {
        let selector = try LabelSelector(parsing: "in in (in, notin)")
        #expect(selector.requirements == [try LabelSelector.Requirement(key: "in", op: .in, values: ["in", "notin"])])
        #expect(selector.matches(["in": "notin"]))
    }

    @Test func rendersCanonicallySortedByKeyWithSortedUniqueValues() throws {
        #expect(try LabelSelector(parsing: "b=1,a in (y,x,y),!c,d,e notin ()").description == "a in (x,y),b=1,!c,d,e notin ()")
        #expect(try LabelSelector(parsing: "x==1,y!=2,z>3").description == "x==1,y!=2,z>3")
        #expect(try LabelSelector(parsing: "example.com/a in (,b)").description == "example.com/a in (,b)")
    }

    @Test func syntaxErrorsSayWhatWasFoundAndExpected() {
        #expect(parseError("a in (b") == "unable to parse requirement: found '', expected: ',' or ')'")
        #expect(parseError("a in b") == "unable to parse requirement: found 'b' expected: '('")
        #expect(parseError("a in (=)") == "unable to parse requirement: found '=', expected: ',', ')' or identifier")
        #expect(parseError("a in (x,=)") == "unable to parse requirement: found '=', expected: ',', or identifier")
        #expect(parseError("a in (x y)") == "unable to parse requirement: found 'y', expected: ',' or ')'")
        #expect(parseError("a b") == "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")
        #expect(parseError("a=(") == "unable to parse requirement: found '(', expected: identifier")
        #expect(parseError("!") == "unable to parse requirement: found '', expected: identifier")
        #expect(parseError("a=b,") == "found '', expected: identifier after ','")
        #expect(parseError("a=b c") == "found 'c', expected: ',' or 'end of string'")
        #expect(parseError("!a=b") == "found '=', expected: ',' or 'end of string'")
        #expect(parseError(",a") == "found ',', expected: !, identifier, or 'end of string'")
    }

    @Test func invalidKeysAndValuesAreReportedWithApimachineryWording() {
        #expect(parseError("-bad=x") == "unable to parse requirement: <nil>: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
        let long = String(repeating: "x", count: 64)
        #expect(parseError("a=" + long) == "unable to parse requirement: values[0][a]: Invalid value: \"\(long)\": must be no more than 63 bytes")
        #expect(parseError("n>ten") == "unable to parse requirement: values[0]: Invalid value: \"ten\": for 'Gt', 'Lt' operators, the value must be an integer")
    }

    @Test func severalRequirementProblemsAreAggregatedInBrackets() {
        let message = parseError("n>-x-")
        #expect(message?.hasPrefix("unable to parse requirement: [values[0]: Invalid value: \"-x-\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][n]: Invalid value: \"-x-\": a valid label must be an empty string") == true)
        #expect(message?.hasSuffix("]") == true)
    }

    @Test func apiFormMatchesLikeTheStringForm() throws {
        let selector = try LabelSelector(json: ["matchLabels": ["app": "web"], "matchExpressions": [["key": "tier", "operator": "In", "values": ["front"]], ["key": "gone", "operator": "DoesNotExist"]]])
        #expect(selector.matches(web))
        #expect(!selector.matches(db))
        #expect(selector.description == "app=web,!gone,tier in (front)")
    }

    @Test func apiFormNullMatchesNothingAndEmptyMatchesEverything() throws {
        let nothing = try LabelSelector(json: .null)
        #expect(!nothing.isEmpty)
        #expect(!nothing.matches([:]))
        let everything = try LabelSelector(json: [:])
        #expect(everything.isEmpty)
        #expect(everything.matches(db))
    }

    @Test func apiFormRejectsUnknownOperatorsAndMissingValues() {
        #expect(throws: LabelSelector.ParseError(message: "\"Near\" is not a valid label selector operator")) {
            try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "Near"]]])
        }
        #expect(throws: LabelSelector.ParseError(message: "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty")) {
            try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "In"]]])
        }
        #expect(throws: LabelSelector.ParseError(message: "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist")) {
            try LabelSelector(json: ["matchExpressions": [["key": "a", "operator": "Exists", "values": ["x"]]]])
        }
    }

    @Test func apiFormValidationNamesTheFieldInTheObject() {
        let causes = LabelSelector.validate(json: ["matchLabels": ["ok": "-no"], "matchExpressions": [["key": "a", "operator": "In"], ["key": "b", "operator": "Exists", "values": ["x"]], ["key": "c", "operator": "Near"]]], field: "spec.selector")
        #expect(causes.map(\.field) == ["spec.selector.matchLabels", "spec.selector.matchExpressions[0].values", "spec.selector.matchExpressions[1].values", "spec.selector.matchExpressions[2].operator"])
        #expect(causes[1].message == "Required value: must be specified when `operator` is 'In' or 'NotIn'")
        #expect(causes[2].message == "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        #expect(causes[3].message == "Invalid value: \"Near\": not a valid selector operator")
    }
}

@Suite struct FieldSelectorTests {
    func parseError(_ text: String) -> String? {
        do {
            _ = try FieldSelector(parsing: text)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func equalityAndInequalityWithEscapedValues() throws {
        let selector = try FieldSelector(parsing: #"status.phase!=Running,metadata.name=a\,b\=c\\d"#)
        #expect(selector.requirements == [
            FieldSelector.Requirement(field: "metadata.name", negated: false, value: #"a,b=c\d"#),
            FieldSelector.Requirement(field: "status.phase", negated: true, value: "Running"),
        ])
        #expect(selector.matches { ["metadata.name": #"a,b=c\d"#, "status.phase": "Pending"][$0] })
        #expect(!selector.matches { ["metadata.name": #"a,b=c\d"#, "status.phase": "Running"][$0] })
        #expect(try FieldSelector(parsing: "metadata.name==x").matches { _ in "x" })
    }

    @Test func missingFieldsCountAsEmpty() throws {
        #expect(try FieldSelector(parsing: "spec.nodeName=").matches { _ in nil })
        #expect(try !FieldSelector(parsing: "spec.nodeName!=").matches { _ in nil })
    }

    @Test func termsAreSortedAndRenderedEscaped() throws {
        let selector = try FieldSelector(parsing: #"z=1,,a=x\,y"#)
        #expect(selector.fields == ["a", "z"])
        #expect(selector.description == #"a=x\,y,z=1"#)
        #expect(try FieldSelector(parsing: "").isEmpty)
    }

    @Test func badTermsAndEscapesAreRejectedWithApimachineryWording() {
        #expect(parseError("justaword") == "invalid selector: 'justaword'; can't understand 'justaword'")
        #expect(parseError("a=b=c") == "invalid field selector: unescaped character in value: 61")
        #expect(parseError(#"a=x\y"#) == #"invalid field selector: invalid escape sequence: \y"#)
        #expect(parseError(#"a=x\"#) == #"invalid field selector: invalid escape sequence: \"#)
    }

    @Test func unsupportedFieldsAreNamedInSortedOrder() throws {
        let selector = try FieldSelector(parsing: "spec.nope=1,metadata.name=x,other=2")
        #expect(selector.unsupportedFieldError(supported: ["metadata.name"]) == "field label not supported: other")
        #expect(selector.unsupportedFieldError(supported: ["metadata.name", "other", "spec.nope"]) == nil)
    }
}
