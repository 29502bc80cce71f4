import Testing
@testable import KubeCore

@Suite struct GoFormattingTests {
    @Test func quotesStringsLikeStrconvQuote() {
        #expect(GoFormat.quote("plain") == #""plain""#)
        #expect(GoFormat.quote("a\"b\\c\n\t\u{01}\u{7f}") == #""a\"b\\c\n\t\x01\x7f""#)
        #expect(GoFormat.quote("é✓\u{a0}\u{200b}") == #""é✓\u00a0\u200b""#)
        #expect(GoFormat.quote("\u{E0001}") == #""\U000e0001""#)
    }

    @Test func formatsFloatsLikeFmtPrint() {
        #expect(GoFormat.float(0.5) == "0.5")
        #expect(GoFormat.float(10) == "10")
        #expect(GoFormat.float(123456) == "123456")
        #expect(GoFormat.float(1e6) == "1e+06")
        #expect(GoFormat.float(1234567) == "1.234567e+06")
        #expect(GoFormat.float(0.0001) == "0.0001")
        #expect(GoFormat.float(0.00001) == "1e-05")
        #expect(GoFormat.float(-2.5) == "-2.5")
        #expect(GoFormat.float(1.5e300) == "1.5e+300")
        #expect(GoFormat.float(.infinity) == "+Inf")
    }

    @Test func badValuesPrintAsFieldErrorPrintsThem() {
        #expect(GoFormat.value("x") == #""x""#)
        #expect(GoFormat.value(3) == "3")
        #expect(GoFormat.value(.double(2e7)) == "2e+07")
        #expect(GoFormat.value(true) == "true")
        #expect(GoFormat.value(.null) == "null")
        #expect(GoFormat.value(["b": 1, "a": ["x"]]) == #"{"a":["x"],"b":1}"#)
    }
}

@Suite struct FieldCauseTests {
    @Test func messagesFollowTheErrorBodyFormat() {
        #expect(FieldCause.required("spec.x").message == "Required value")
        #expect(FieldCause.required("spec.x", "because").message == "Required value: because")
        #expect(FieldCause.invalid("spec.x", "Foo", "bad").message == #"Invalid value: "Foo": bad"#)
        #expect(FieldCause.invalid("spec.x", 5, "").message == "Invalid value: 5")
        #expect(FieldCause.typeInvalid("spec.x", "string", "wrong").reason == "FieldValueTypeInvalid")
        #expect(FieldCause.notSupported("spec.x", "x", supported: ["a", "b"]).message == #"Unsupported value: "x": supported values: "a", "b""#)
        #expect(FieldCause.duplicate("spec.x[1]", ["port": 1]).message == #"Duplicate value: {"port":1}"#)
        #expect(FieldCause.forbidden("spec.x", "no").message == "Forbidden: no")
        #expect(FieldCause.tooLong("spec.x", max: 5).message == "Too long: may not be more than 5 bytes")
        #expect(FieldCause.tooLong("spec.x", max: 1).message == "Too long: may not be more than 1 byte")
        #expect(FieldCause.tooMany("spec.x", actual: 3, max: 2).message == "Too many: 3: must have at most 2 items")
        #expect(FieldCause.tooMany("spec.x", actual: 3, max: 2).reason == "FieldValueTooMany")
        #expect(FieldCause.required("spec.x").description == "spec.x: Required value")
    }
}

@Suite struct NameValidationTests {
    static let subdomainRule = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelRule = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let keyNameRule = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueRule = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    @Test func subdomainNamesPrintTheRuleAndItsRegex() {
        #expect(NameValidation.validateSubdomain("my.app-1", field: "metadata.name").isEmpty)
        #expect(NameValidation.validateSubdomain("Not_Valid", field: "metadata.name") == [
            FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \"Not_Valid\": " + Self.subdomainRule, field: "metadata.name"),
        ])
        let long = String(repeating: "a", count: 254)
        #expect(NameValidation.validateSubdomain(long, field: "metadata.name").map(\.message) == ["Invalid value: \"\(long)\": must be no more than 253 characters"])
    }

    @Test func emptyNamesAreRequired() {
        for rule in [NameValidation.NameRule.dnsSubdomain, .dnsLabel, .pathSegment] {
            #expect(NameValidation.validateName("", rule: rule) == [FieldCause(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")])
        }
    }

    @Test func labelNamesRejectDotsUppercaseAndLength() {
        #expect(NameValidation.validateLabel("has.dot", field: "metadata.name").map(\.message) == ["Invalid value: \"has.dot\": must not contain dots"])
        #expect(NameValidation.validateLabel("Bad_Name", field: "metadata.name").map(\.message) == ["Invalid value: \"Bad_Name\": " + Self.labelRule])
        let long = String(repeating: "a", count: 64)
        #expect(NameValidation.validateLabel(long, field: "x").map(\.message) == ["Invalid value: \"\(long)\": must be no more than 63 characters"])
    }

    @Test func pathSegmentNamesOnlyAvoidSlashesPercentAndDots() {
        #expect(NameValidation.validatePathSegment("system:admin Role", field: "metadata.name").isEmpty)
        #expect(NameValidation.validatePathSegment("..", field: "metadata.name").map(\.message) == [#"Invalid value: "..": may not be '..'"#])
        #expect(NameValidation.validatePathSegment("a/b%c", field: "metadata.name").map(\.message) == [#"Invalid value: "a/b%c": may not contain '/'"#, #"Invalid value: "a/b%c": may not contain '%'"#])
    }

    @Test func qualifiedNamesCheckPrefixAndNameParts() {
        #expect(NameValidation.qualifiedNameProblems("example.com/My_Name-1").isEmpty)
        #expect(NameValidation.qualifiedNameProblems("example.com/") == ["name part must be non-empty", Self.keyNameRule])
        #expect(NameValidation.qualifiedNameProblems("/a") == ["prefix part must be non-empty"])
        #expect(NameValidation.qualifiedNameProblems("Example.com/a") == ["prefix part " + Self.subdomainRule])
        #expect(NameValidation.qualifiedNameProblems(String(repeating: "k", count: 64)) == ["name part must be no more than 63 bytes"])
        #expect(NameValidation.qualifiedNameProblems("a/b/c").first?.hasPrefix("a valid label key must consist of alphanumeric characters") == true)
        #expect(NameValidation.qualifiedNameProblems("a/b/c").first?.hasSuffix("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')") == true)
    }

    @Test func labelValuesMayBeEmpty() {
        #expect(NameValidation.labelValueProblems("").isEmpty)
        #expect(NameValidation.labelValueProblems("A.b-c_1").isEmpty)
        #expect(NameValidation.labelValueProblems("-x") == [Self.labelValueRule])
    }

    @Test func labelCausesNameTheMapNotTheKey() {
        let causes = NameValidation.validateLabels(["good": "ok", "bad key": "v", "k": "bad value!"])
        #expect(causes == [
            FieldCause.invalid("metadata.labels", "bad key", Self.keyNameRule),
            FieldCause.invalid("metadata.labels", "bad value!", Self.labelValueRule),
        ])
    }

    @Test func annotationsCheckLowercasedKeysAndTotalSize() {
        #expect(NameValidation.validateAnnotations(["Example.com/Key": "v"]).isEmpty)
        #expect(NameValidation.validateAnnotations(["bad key": "v"]).map(\.message) == ["Invalid value: \"bad key\": " + Self.keyNameRule])
        let huge = NameValidation.validateAnnotations(["a": .string(String(repeating: "x", count: 300_000))])
        #expect(huge == [FieldCause(reason: "FieldValueTooLong", message: "Too long: may not be more than 262144 bytes", field: "metadata.annotations")])
    }

    @Test func objectMetaChecksEverythingInTheApiServersOrder() {
        let causes = NameValidation.validateObjectMeta(
            ["generateName": "Web-", "name": "web", "generation": -1, "labels": ["x": "-"], "finalizers": ["orphan", "foregroundDeletion"]],
            namespaced: true, nameRule: .dnsSubdomain)
        #expect(causes.map(\.field) == ["metadata.generateName", "metadata.namespace", "metadata.generation", "metadata.labels", "metadata.finalizers"])
        #expect(causes[1].message == "Required value")
        #expect(causes[2].message == "Invalid value: -1: must be greater than or equal to 0")
        #expect(causes[4].message == #"Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set"#)
    }

    @Test func generateNameMayEndInADash() {
        #expect(NameValidation.validateObjectMeta(["generateName": "web-"], namespaced: false, nameRule: .dnsLabel).map(\.field) == ["metadata.name"])
    }

    @Test func clusterScopedObjectsMayNotHaveANamespace() {
        let causes = NameValidation.validateObjectMeta(["name": "n", "namespace": "default"], namespaced: false, nameRule: .dnsLabel)
        #expect(causes == [FieldCause(reason: "FieldValueForbidden", message: "Forbidden: not allowed on this type", field: "metadata.namespace")])
        #expect(NameValidation.validateObjectMeta(["name": "n", "namespace": "Bad"], namespaced: true, nameRule: .dnsLabel).map(\.message) == ["Invalid value: \"Bad\": " + Self.labelRule])
    }

    @Test func ownerReferencesNeedTheirIdentifyingFields() {
        let causes = NameValidation.validateOwnerReferences([["apiVersion": "apps/", "kind": "ReplicaSet", "name": "rs"]])
        #expect(causes == [
            FieldCause.invalid("metadata.ownerReferences.apiVersion", "apps/", "version must not be empty"),
            FieldCause.invalid("metadata.ownerReferences.uid", "", "must not be empty"),
        ])
    }
}
