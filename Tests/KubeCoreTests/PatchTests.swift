import Testing
@testable import KubeCore

/// Parses JSON written in a test; a typo is a test failure, not a crash.
private func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSON {
    try #require(try? JSON.parse(text), "not JSON: \(text)", sourceLocation: sourceLocation)
}

/// The error `body` throws, or nil when it succeeds.
private func patchError(_ body: () throws(PatchError) -> JSON) -> PatchError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The error applying the JSON patch written in `patch` throws, or nil.
private func jsonPatchError(_ patch: String, to document: JSON) throws -> PatchError? {
    let parsed = try json(patch)
    return patchError { () throws(PatchError) in try JSONPatch.apply(parsed, to: document) }
}

/// The error applying the strategic merge patch written in `patch` throws, or nil.
private func strategicPatchError(_ patch: String, to document: String, schema: ObjectSchema) throws -> PatchError? {
    let parsed = try json(patch)
    let target = try json(document)
    return patchError { () throws(PatchError) in try StrategicMergePatch.apply(parsed, to: target, schema: schema) }
}

/// Every object key starting with "$" anywhere in `value`, with where it is.
private func directiveKeys(in value: JSON, at path: String = "") -> [String] {
    switch value {
    case .object(let members):
        return members.keys.sorted().flatMap { key in
            (key.hasPrefix("$") ? ["\(path).\(key)"] : []) + directiveKeys(in: members[key] ?? .null, at: "\(path).\(key)")
        }
    case .array(let items):
        return items.enumerated().flatMap { directiveKeys(in: $1, at: "\(path)[\($0)]") }
    default:
        return []
    }
}

/// A Deployment as the API server stores it, trimmed to what patches touch.
private let deploymentText = """
    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["example.com/a"]},
     "spec": {"replicas": 2,
              "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
              "template": {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [
                                       {"name": "app", "image": "nginx:1", "args": ["--a", "--b"],
                                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                                        "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]},
                                       {"name": "sidecar", "image": "busybox"}],
                                    "tolerations": [{"key": "k", "operator": "Exists"}],
                                    "volumes": [{"name": "data", "emptyDir": {}}]}}}}
    """

private let containersPath = ["spec", "template", "spec", "containers"]

// MARK: - JSON Patch

@Suite("JSON Patch (RFC 6902)")
struct JSONPatchTests {
    func apply(_ patch: String, to document: String) throws -> JSON {
        try JSONPatch.apply(try json(patch), to: try json(document))
    }

    @Test("add sets a new object member (RFC 6902 A.1)")
    func addsAnObjectMember() throws {
        try #expect(apply(#"[{"op": "add", "path": "/baz", "value": "qux"}]"#, to: #"{"foo": "bar"}"#)
            == json(#"{"baz": "qux", "foo": "bar"}"#))
    }

    @Test("add inserts into an array before the index (A.2)")
    func addsAnArrayElement() throws {
        try #expect(apply(#"[{"op": "add", "path": "/foo/1", "value": "qux"}]"#, to: #"{"foo": ["bar", "baz"]}"#)
            == json(#"{"foo": ["bar", "qux", "baz"]}"#))
    }

    @Test("remove deletes an object member (A.3)")
    func removesAnObjectMember() throws {
        try #expect(apply(#"[{"op": "remove", "path": "/baz"}]"#, to: #"{"baz": "qux", "foo": "bar"}"#) == json(#"{"foo": "bar"}"#))
    }

    @Test("remove deletes an array element and shifts the rest (A.4)")
    func removesAnArrayElement() throws {
        try #expect(apply(#"[{"op": "remove", "path": "/foo/1"}]"#, to: #"{"foo": ["bar", "qux", "baz"]}"#)
            == json(#"{"foo": ["bar", "baz"]}"#))
    }

    @Test("replace swaps an existing value (A.5)")
    func replacesAValue() throws {
        try #expect(apply(#"[{"op": "replace", "path": "/baz", "value": "boo"}]"#, to: #"{"baz": "qux", "foo": "bar"}"#)
            == json(#"{"baz": "boo", "foo": "bar"}"#))
    }

    @Test("move takes a value out of one place and puts it in another (A.6)")
    func movesAValue() throws {
        let document = #"{"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}"#
        try #expect(apply(#"[{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]"#, to: document)
            == json(#"{"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}"#))
    }

    @Test("move within an array removes first, then inserts (A.7)")
    func movesAnArrayElement() throws {
        try #expect(apply(#"[{"op": "move", "from": "/foo/1", "path": "/foo/3"}]"#, to: #"{"foo": ["all", "grass", "cows", "eat"]}"#)
            == json(#"{"foo": ["all", "cows", "eat", "grass"]}"#))
    }

    @Test("moving a value onto itself changes nothing")
    func moveOntoItself() throws {
        try #expect(apply(#"[{"op": "move", "from": "/a", "path": "/a"}]"#, to: #"{"a": 1}"#) == json(#"{"a": 1}"#))
    }

    @Test("test passes when the value matches (A.8)")
    func testPasses() throws {
        let document = #"{"baz": "qux", "foo": ["a", 2, "c"]}"#
        try #expect(apply(#"[{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}]"#, to: document)
            == json(document))
    }

    @Test("a failed test rejects the patch and says what was found (A.9)")
    func testFails() throws {
        let error = try #require(try jsonPatchError(#"[{"op": "test", "path": "/baz", "value": "bar"}]"#, to: ["baz": "qux"]))
        #expect(error == PatchError(.failed, #"op 0 (test): test failed: the value at "/baz" is "qux", not "bar""#))
    }

    @Test("add creates a nested object (A.10) and an array value (A.16)")
    func addsNestedValues() throws {
        try #expect(apply(#"[{"op": "add", "path": "/child", "value": {"grandchild": {}}}]"#, to: #"{"foo": "bar"}"#)
            == json(#"{"foo": "bar", "child": {"grandchild": {}}}"#))
        try #expect(apply(#"[{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}]"#, to: #"{"foo": ["bar"]}"#)
            == json(#"{"foo": ["bar", ["abc", "def"]]}"#))
    }

    @Test("members an operation does not use are ignored (A.11)")
    func ignoresUnknownMembers() throws {
        try #expect(apply(#"[{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}]"#, to: #"{"foo": "bar"}"#)
            == json(#"{"foo": "bar", "baz": "qux"}"#))
    }

    @Test("adding under a parent that does not exist fails (A.12)")
    func addUnderMissingParent() throws {
        let error = try #require(try jsonPatchError(#"[{"op": "add", "path": "/baz/bat", "value": "qux"}]"#, to: ["foo": "bar"]))
        #expect(error == PatchError(.failed, #"op 0 (add): path "/baz" does not exist"#))
    }

    @Test("~1 and ~0 in a pointer stand for / and ~, decoded left to right (A.14)")
    func pointerEscapes() throws {
        let document = #"{"/": 9, "~1": 10, "metadata": {"annotations": {}}}"#
        try #expect(apply(#"[{"op": "test", "path": "/~01", "value": 10}, {"op": "test", "path": "/~1", "value": 9}]"#, to: document) == json(document))
        let annotated = try apply(#"[{"op": "add", "path": "/metadata/annotations/example.com~1a~0b", "value": "x"}]"#, to: document)
        #expect(annotated[path: ["metadata", "annotations", "example.com/a~b"]] == "x")
    }

    @Test("test tells a string from a number (A.15)")
    func testComparesTypes() throws {
        let error = try #require(try jsonPatchError(#"[{"op": "test", "path": "/baz", "value": "10"}]"#, to: ["baz": 10]))
        #expect(error.kind == .failed)
    }

    @Test("test treats 1 and 1.0 as the same number, also inside objects and arrays")
    func testComparesNumbersByValue() throws {
        let document = #"{"n": 1, "deep": {"list": [2, {"x": 3.0}]}}"#
        try #expect(apply(#"[{"op": "test", "path": "/n", "value": 1.0}, {"op": "test", "path": "/deep", "value": {"list": [2.0, {"x": 3}]}}]"#, to: document)
            == json(document))
        try #expect(jsonPatchError(#"[{"op": "test", "path": "/n", "value": 1.5}]"#, to: ["n": 1])?.kind == .failed)
    }

    @Test("- appends to an array")
    func dashAppends() throws {
        try #expect(apply(#"[{"op": "add", "path": "/list/-", "value": 4}, {"op": "add", "path": "/list/0", "value": 0}]"#, to: #"{"list": [1, 2, 3]}"#)
            == json(#"{"list": [0, 1, 2, 3, 4]}"#))
    }

    @Test("the empty pointer names the whole document")
    func emptyPointerIsTheDocument() throws {
        try #expect(apply(#"[{"op": "test", "path": "", "value": {"a": 1}}, {"op": "replace", "path": "", "value": [1]}]"#, to: #"{"a": 1}"#) == [1])
        try #expect(apply(#"[{"op": "add", "path": "", "value": "whole"}]"#, to: #"{"a": 1}"#) == "whole")
    }

    @Test("copy duplicates a value, and the copy changes independently")
    func copiesAValue() throws {
        let result = try apply(#"[{"op": "copy", "from": "/a", "path": "/b"}, {"op": "replace", "path": "/b/x", "value": 2}]"#, to: #"{"a": {"x": 1}}"#)
        try #expect(result == json(#"{"a": {"x": 1}, "b": {"x": 2}}"#))
    }

    @Test("operations apply in order, each seeing the result of the ones before")
    func operationsChain() throws {
        let patch = """
            [{"op": "add", "path": "/data/c", "value": "3"},
             {"op": "replace", "path": "/data/a", "value": "10"},
             {"op": "remove", "path": "/data/b"},
             {"op": "move", "from": "/data/c", "path": "/moved"},
             {"op": "copy", "from": "/data/a", "path": "/copied"},
             {"op": "test", "path": "/copied", "value": "10"}]
            """
        try #expect(apply(patch, to: #"{"data": {"a": "1", "b": "2"}}"#) == json(#"{"data": {"a": "10"}, "moved": "3", "copied": "10"}"#))
    }

    @Test("a JSON patch edits a Deployment's containers by index")
    func editsADeployment() throws {
        let patch = """
            [{"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
             {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:2"},
             {"op": "add", "path": "/spec/template/spec/containers/1/env", "value": [{"name": "LOG", "value": "debug"}]},
             {"op": "remove", "path": "/spec/template/spec/containers/0/ports/1"},
             {"op": "replace", "path": "/spec/replicas", "value": 3}]
            """
        let result = try apply(patch, to: deploymentText)
        let containers = try #require(result[path: containersPath]?.arrayValue)
        #expect(containers[0]["image"] == "nginx:2")
        #expect(containers[0]["ports"] == [["containerPort": 80, "protocol": "TCP"]])
        #expect(containers[1]["env"] == [["name": "LOG", "value": "debug"]])
        #expect(result[path: ["spec", "replicas"]] == 3)
    }

    /// Patches that are not valid patches, whatever they are applied to, and what the error says.
    static let malformedPatches: [(String, String)] = [
        (#"{"op": "add"}"#, "a JSON patch must be an array of operations, got object"),
        (#"[1]"#, "op 0: an operation must be an object, got integer"),
        (#"[{"path": "/a"}]"#, #"op 0: missing "op""#),
        (#"[{"op": 5, "path": "/a"}]"#, #"op 0: "op" must be a string, got integer"#),
        (#"[{"op": "frob", "path": "/a"}]"#, #"op 0: unknown op "frob" (expected add, remove, replace, move, copy or test)"#),
        (#"[{"op": "remove"}]"#, #"op 0 (remove): missing "path""#),
        (#"[{"op": "remove", "path": 1}]"#, #"op 0 (remove): "path" must be a string, got integer"#),
        (#"[{"op": "add", "path": "a", "value": 1}]"#, #"op 0 (add): invalid "path": "a" is not a JSON pointer: it must be empty or start with "/""#),
        (#"[{"op": "remove", "path": "/a~2b"}]"#, #"op 0 (remove): invalid "path": "/a~2b" is not a JSON pointer: "~" must be followed by "0" or "1""#),
        (#"[{"op": "add", "path": "/a"}]"#, #"op 0 (add): missing "value""#),
        (#"[{"op": "replace", "path": "/a"}]"#, #"op 0 (replace): missing "value""#),
        (#"[{"op": "test", "path": "/a"}]"#, #"op 0 (test): missing "value""#),
        (#"[{"op": "copy", "path": "/a"}]"#, #"op 0 (copy): missing "from""#),
        (#"[{"op": "move", "from": "/a", "path": "/a/b"}]"#, #"op 0 (move): cannot move "/a" into its own child "/a/b""#),
        // Malformed anywhere beats failing earlier: the request is a bad request whatever the object.
        (#"[{"op": "remove", "path": "/nope"}, {"op": "frob", "path": "/x"}]"#, #"op 1: unknown op "frob" (expected add, remove, replace, move, copy or test)"#),
    ]

    @Test("a patch that is not a valid patch is malformed, and the message names the op", arguments: malformedPatches)
    func malformedPatch(patch: String, message: String) throws {
        let error = try #require(try jsonPatchError(patch, to: ["a": ["b": 1]]))
        #expect(error == PatchError(.malformed, message))
    }

    /// Valid patches that do not fit `spec: {replicas: 1, list: [1, 2, 3]}`, and what the error says.
    static let failingPatches: [(String, String)] = [
        (#"[{"op": "test", "path": "/spec/replicas", "value": 1}, {"op": "add", "path": "/spec/x", "value": 1}, {"op": "remove", "path": "/spec/foo"}]"#,
         #"op 2 (remove): path "/spec/foo" does not exist"#),
        (#"[{"op": "replace", "path": "/missing/x", "value": 1}]"#, #"op 0 (replace): path "/missing" does not exist"#),
        (#"[{"op": "replace", "path": "/spec/absent", "value": 1}]"#, #"op 0 (replace): path "/spec/absent" does not exist"#),
        (#"[{"op": "test", "path": "/spec/replicas", "value": 2}]"#, #"op 0 (test): test failed: the value at "/spec/replicas" is 1, not 2"#),
        (#"[{"op": "test", "path": "/spec/absent", "value": null}]"#, #"op 0 (test): path "/spec/absent" does not exist"#),
        (#"[{"op": "add", "path": "/spec/list/9", "value": 1}]"#, #"op 0 (add): index 9 in "/spec/list/9" is out of range: the array at "/spec/list" has 3 elements"#),
        (#"[{"op": "remove", "path": "/spec/list/3"}]"#, #"op 0 (remove): index 3 in "/spec/list/3" is out of range: the array at "/spec/list" has 3 elements"#),
        (#"[{"op": "remove", "path": "/spec/list/-"}]"#, #"op 0 (remove): path "/spec/list/-" does not exist: "-" names the end of the array at "/spec/list", not an element"#),
        (#"[{"op": "replace", "path": "/spec/list/01", "value": 0}]"#, #"op 0 (replace): path "/spec/list/01" does not exist: "01" is not an index into the array at "/spec/list""#),
        (#"[{"op": "add", "path": "/spec/replicas/x", "value": 1}]"#, #"op 0 (add): cannot add at "/spec/replicas/x": "/spec/replicas" is an integer, not an object or array"#),
        (#"[{"op": "remove", "path": ""}]"#, "op 0 (remove): the whole document cannot be removed"),
        (#"[{"op": "move", "from": "/nope", "path": "/x"}]"#, #"op 0 (move): "from" path "/nope" does not exist"#),
        (#"[{"op": "copy", "from": "/spec/replicas/deep/x", "path": "/x"}]"#, #"op 0 (copy): "from" path "/spec/replicas/deep" does not exist: "/spec/replicas" is an integer"#),
    ]

    @Test("a valid patch that does not fit the document fails, and the message names the op and path", arguments: failingPatches)
    func failingPatch(patch: String, message: String) throws {
        let error = try #require(try jsonPatchError(patch, to: ["spec": ["replicas": 1, "list": [1, 2, 3]]]))
        #expect(error == PatchError(.failed, message))
    }
}

// MARK: - JSON Merge Patch

@Suite("JSON Merge Patch (RFC 7386)")
struct MergePatchTests {
    @Test("the example of RFC 7386 section 3")
    func rfcExample() throws {
        let original = try json(#"{"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["example", "sample"], "content": "This will be unchanged"}"#)
        let patch = try json(#"{"title": "Hello!", "phoneNumber": "+01-555-1234", "author": {"familyName": null}, "tags": ["example"]}"#)
        try #expect(MergePatch.apply(patch, to: original)
            == json(#"{"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"], "content": "This will be unchanged", "phoneNumber": "+01-555-1234"}"#))
    }

    /// RFC 7386 appendix A: original, patch, result.
    static let appendixA: [(String, String, String)] = [
        (#"{"a": "b"}"#, #"{"a": "c"}"#, #"{"a": "c"}"#),
        (#"{"a": "b"}"#, #"{"b": "c"}"#, #"{"a": "b", "b": "c"}"#),
        (#"{"a": "b"}"#, #"{"a": null}"#, #"{}"#),
        (#"{"a": "b", "b": "c"}"#, #"{"a": null}"#, #"{"b": "c"}"#),
        (#"{"a": ["b"]}"#, #"{"a": "c"}"#, #"{"a": "c"}"#),
        (#"{"a": "c"}"#, #"{"a": ["b"]}"#, #"{"a": ["b"]}"#),
        (#"{"a": {"b": "c"}}"#, #"{"a": {"b": "d", "c": null}}"#, #"{"a": {"b": "d"}}"#),
        (#"{"a": [{"b": "c"}]}"#, #"{"a": [1]}"#, #"{"a": [1]}"#),
        (#"["a", "b"]"#, #"["c", "d"]"#, #"["c", "d"]"#),
        (#"{"a": "b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a": "foo"}"#, #"null"#, #"null"#),
        (#"{"a": "foo"}"#, #""bar""#, #""bar""#),
        (#"{"e": null}"#, #"{"a": 1}"#, #"{"e": null, "a": 1}"#),
        (#"[1, 2]"#, #"{"a": "b", "c": null}"#, #"{"a": "b"}"#),
        (#"{}"#, #"{"a": {"bb": {"ccc": null}}}"#, #"{"a": {"bb": {}}}"#),
    ]

    @Test("the examples of RFC 7386 appendix A", arguments: appendixA)
    func appendixExample(original: String, patch: String, result: String) throws {
        try #expect(MergePatch.apply(try json(patch), to: try json(original)) == json(result))
    }

    @Test("a merge patch replaces the containers list whole, unlike a strategic patch")
    func replacesLists() throws {
        let patch = try json(#"{"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}"#)
        let result = MergePatch.apply(patch, to: try json(deploymentText))
        #expect(result[path: containersPath] == [["name": "app", "image": "nginx:2"]])
        #expect(result[path: ["spec", "replicas"]] == 2)
    }

    @Test("create leaves unchanged members out and deletes removed ones with null")
    func createIsMinimal() throws {
        let original = try json(#"{"a": 1, "b": {"c": 2, "d": 3}, "gone": true}"#)
        let modified = try json(#"{"a": 1, "b": {"c": 2, "d": 4}, "new": [1]}"#)
        try #expect(MergePatch.create(from: original, to: modified) == json(#"{"b": {"d": 4}, "gone": null, "new": [1]}"#))
        #expect(MergePatch.create(from: original, to: original) == [:])
    }

    static let createPairs: [(String, String)] = [
        (#"{"a": 1, "b": {"c": 2, "d": 3}}"#, #"{"a": 2, "b": {"c": 2}, "e": [1, 2]}"#),
        (#"{"x": [1, 2]}"#, #"{"x": [2]}"#),
        (#"{}"#, #"{"new": {"deep": true}}"#),
        (#"{"a": {"b": {"c": 1, "d": 2}}}"#, #"{"a": {"b": {"c": 1}}}"#),
        (#"{"a": {"b": 1}}"#, #"{"a": "flat"}"#),
        (#"{"a": "flat"}"#, #"{"a": {"b": 1}}"#),
        (#"{"n": 1}"#, #"{"n": 1.0}"#),
        (#"{"list": [{"a": 1}]}"#, #"{"list": [{"a": 1, "b": null}]}"#),
        (#""scalar""#, #"{"a": 1}"#),
        (#"{"a": 1}"#, #"[1, 2]"#),
        (#"{"a": 1}"#, #"{}"#),
        (deploymentText, #"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}}"#),
    ]

    @Test("applying create(from: a, to: b) to a gives b", arguments: createPairs)
    func createRoundTrips(original: String, modified: String) throws {
        let a = try json(original)
        let b = try json(modified)
        #expect(MergePatch.apply(MergePatch.create(from: a, to: b), to: a) == b)
    }
}

// MARK: - Strategic merge patch

@Suite("Strategic merge patch")
struct StrategicMergePatchTests {
    let schema = ObjectSchema.builtin(group: "apps", kind: "Deployment")

    func apply(_ patch: String, to document: String = deploymentText, schema: ObjectSchema? = nil) throws -> JSON {
        try StrategicMergePatch.apply(try json(patch), to: try json(document), schema: schema ?? self.schema)
    }

    /// The patch `{"spec": {"template": {"spec": <podSpec>}}}`.
    func podSpecPatch(_ podSpec: String) -> String {
        #"{"spec": {"template": {"spec": "# + podSpec + "}}}"
    }

    func containers(_ document: JSON) -> [JSON] {
        document[path: containersPath]?.arrayValue ?? []
    }

    func names(_ list: [JSON]) -> [String] {
        list.compactMap { $0["name"]?.stringValue }
    }

    @Test("containers merge by name: the patched one changes, its other fields and the other containers stay")
    func mergesContainersByName() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "app", "image": "nginx:2", "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]}]}"#))
        try #expect(containers(result) == json("""
            [{"name": "app", "image": "nginx:2", "args": ["--a", "--b"],
              "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
              "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]},
             {"name": "sidecar", "image": "busybox"}]
            """).arrayValue)
        #expect(result[path: ["spec", "replicas"]] == 2)
        #expect(result[path: ["spec", "template", "spec", "volumes"]] == [["name": "data", "emptyDir": [:]]])
    }

    @Test("patching one element keeps the list's order")
    func keepsOrder() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "sidecar", "image": "busybox:2"}]}"#))
        #expect(names(containers(result)) == ["app", "sidecar"])
        #expect(containers(result)[1]["image"] == "busybox:2")
    }

    @Test("a new element goes before the untouched ones, as the API server places it")
    func newElementsComeFirst() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "redis", "image": "redis"}]}"#))
        #expect(names(containers(result)) == ["redis", "app", "sidecar"])
    }

    @Test("the patch list's order wins for the elements it names")
    func patchOrderWins() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "sidecar", "image": "b"}, {"name": "app", "image": "a"}]}"#))
        #expect(names(containers(result)) == ["sidecar", "app"])
    }

    @Test("null removes a field, at the top, in nested maps and inside a list element")
    func nullDeletes() throws {
        let result = try apply(#"""
            {"metadata": {"labels": {"tier": null}}, "spec": {"strategy": {"rollingUpdate": null},
             "template": {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": null}]}]}}}, "kind": null}
            """#)
        #expect(result["kind"] == nil)
        #expect(result[path: ["metadata", "labels"]] == ["app": "web"])
        #expect(result[path: ["spec", "strategy"]] == ["type": "RollingUpdate"])
        #expect(containers(result)[0]["env"] == [["name": "A"], ["name": "B", "value": "2"]])
    }

    @Test("ports merge on containerPort, the first of their keys, and 443.0 finds 443")
    func mergesOnTheFirstKey() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "app", "ports": [{"containerPort": 443.0, "name": "https"}]}]}"#))
        #expect(containers(result)[0]["ports"] == [["containerPort": 80, "protocol": "TCP"], ["containerPort": 443, "protocol": "TCP", "name": "https"]])
    }

    @Test("a Service's ports merge on port, the first of port and protocol")
    func mergesServicePorts() throws {
        let service = #"{"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}, {"port": 53, "protocol": "UDP"}]}}"#
        let result = try apply(#"{"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}"#, to: service, schema: .builtin(group: "", kind: "Service"))
        try #expect(result[path: ["spec", "ports"]] == json(#"[{"port": 80, "protocol": "TCP", "targetPort": 9090}, {"port": 53, "protocol": "UDP"}]"#))
    }

    @Test("ownerReferences merge by uid for every kind, even one with no schema of its own")
    func mergesMetadataLists() throws {
        let document = #"{"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}]}}"#
        let result = try apply(#"{"metadata": {"ownerReferences": [{"uid": "2", "controller": true}]}}"#, to: document, schema: .generic)
        try #expect(result[path: ["metadata", "ownerReferences"]] == json(#"[{"uid": "1", "name": "a"}, {"uid": "2", "name": "b", "controller": true}]"#))
    }

    @Test("$patch: delete in an element removes every element with that key; an absent key is no error")
    func deleteElement() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "sidecar", "$patch": "delete"}, {"name": "ghost", "$patch": "delete"}]}"#))
        #expect(names(containers(result)) == ["app"])
        let duplicates = #"{"spec": {"template": {"spec": {"containers": [{"name": "x", "n": 1}, {"name": "y"}, {"name": "x", "n": 2}]}}}}"#
        #expect(names(containers(try apply(podSpecPatch(#"{"containers": [{"name": "x", "$patch": "delete"}]}"#), to: duplicates))) == ["y"])
    }

    @Test("an element {$patch: replace} replaces the whole list with the other elements")
    func replaceList() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}"#))
        #expect(containers(result) == [["name": "only", "image": "x"]])
        let emptied = try apply(podSpecPatch(#"{"containers": [{"$patch": "replace"}]}"#))
        #expect(containers(emptied) == [])
    }

    @Test("$patch: replace in a keyed element replaces that element instead of merging into it")
    func replaceElement() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "app", "$patch": "replace", "image": "nginx:3"}]}"#))
        #expect(containers(result) == [["name": "app", "image": "nginx:3"], ["name": "sidecar", "image": "busybox"]])
    }

    @Test("$patch: replace on a map replaces it instead of merging")
    func replaceMap() throws {
        let result = try apply(#"{"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}"#)
        #expect(result[path: ["spec", "strategy"]] == ["type": "Recreate"])
    }

    @Test("$patch: delete on a map removes it")
    func deleteMap() throws {
        let result = try apply(#"{"spec": {"strategy": {"$patch": "delete"}}, "metadata": {"annotations": {"$patch": "delete"}}}"#)
        #expect(result[path: ["spec", "strategy"]] == nil)
        #expect(result[path: ["metadata", "annotations"]] == nil)
        #expect(result[path: ["spec", "replicas"]] == 2)
    }

    @Test("$patch: merge asks for the default merge, on a map and as a list element")
    func explicitMerge() throws {
        let result = try apply(#"""
            {"metadata": {"$patch": "merge", "labels": {"new": "1"}},
             "spec": {"template": {"spec": {"containers": [{"$patch": "merge"}, {"name": "app", "$patch": "merge", "image": "nginx:2"}]}}}}
            """#)
        #expect(result[path: ["metadata", "labels"]] == ["app": "web", "tier": "front", "new": "1"])
        #expect(names(containers(result)) == ["app", "sidecar"])
        #expect(containers(result)[0]["image"] == "nginx:2" && containers(result)[0]["env"] != nil)
    }

    @Test("set lists take the union, each value once; a value only the patch has goes first")
    func setUnion() throws {
        let result = try apply(#"{"metadata": {"finalizers": ["example.com/a", "example.com/b", "example.com/b"]}}"#)
        #expect(result[path: ["metadata", "finalizers"]] == ["example.com/a", "example.com/b"])
        let added = try apply(#"{"metadata": {"finalizers": ["example.com/b"]}}"#)
        #expect(added[path: ["metadata", "finalizers"]] == ["example.com/b", "example.com/a"])
    }

    @Test("$deleteFromPrimitiveList removes values from a set list")
    func deleteFromPrimitiveList() throws {
        let document = #"{"metadata": {"finalizers": ["a", "b", "c"]}}"#
        let result = try apply(#"{"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "c", "absent"]}}"#, to: document)
        #expect(result[path: ["metadata", "finalizers"]] == ["b"])
    }

    @Test("$setElementOrder puts a keyed list in the given order")
    func setElementOrder() throws {
        let result = try apply(podSpecPatch(#"{"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}"#))
        #expect(names(containers(result)) == ["sidecar", "app"])
        #expect(containers(result)[1]["env"] != nil)
    }

    @Test("a kubectl apply patch: order, additions, changes and deletions in one list")
    func kubectlApplyShapedPatch() throws {
        let result = try apply(podSpecPatch("""
            {"$setElementOrder/containers": [{"name": "app"}, {"name": "metrics"}],
             "containers": [{"name": "app", "$setElementOrder/env": [{"name": "B"}, {"name": "A"}], "env": [{"name": "B", "value": "two"}]},
                            {"name": "metrics", "image": "prom"},
                            {"name": "sidecar", "$patch": "delete"}]}
            """))
        #expect(names(containers(result)) == ["app", "metrics"])
        #expect(containers(result)[0]["env"] == [["name": "B", "value": "two"], ["name": "A", "value": "1"]])
    }

    @Test("elements $setElementOrder does not name keep their place among the others")
    func unnamedElementsKeepTheirPlace() throws {
        let mesh = #"{"spec": {"template": {"spec": {"containers": [{"name": "mesh"}, {"name": "app"}, {"name": "sidecar"}]}}}}"#
        let order = podSpecPatch(#"{"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}"#)
        #expect(names(containers(try apply(order, to: mesh))) == ["mesh", "sidecar", "app"])
        let trailing = #"{"spec": {"template": {"spec": {"containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "mesh"}]}}}}"#
        #expect(names(containers(try apply(order, to: trailing))) == ["sidecar", "app", "mesh"])
    }

    @Test("$setElementOrder orders a primitive list by value")
    func setElementOrderOfPrimitives() throws {
        let result = try apply(#"{"metadata": {"$setElementOrder/finalizers": ["c", "a", "b"]}}"#, to: #"{"metadata": {"finalizers": ["a", "b", "c"]}}"#)
        #expect(result[path: ["metadata", "finalizers"]] == ["c", "a", "b"])
    }

    @Test("$retainKeys drops the fields it does not list")
    func retainKeys() throws {
        let result = try apply(#"{"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}"#)
        #expect(result[path: ["spec", "strategy"]] == ["type": "Recreate"])
    }

    @Test("atomic lists such as args and tolerations are replaced whole")
    func atomicLists() throws {
        let result = try apply(podSpecPatch(#"{"containers": [{"name": "app", "args": ["--c"]}], "tolerations": [{"key": "other", "operator": "Exists"}]}"#))
        #expect(containers(result)[0]["args"] == ["--c"])
        #expect(result[path: ["spec", "template", "spec", "tolerations"]] == [["key": "other", "operator": "Exists"]])
    }

    @Test("a value of another type replaces the stored one")
    func typeChanges() throws {
        let result = try apply(#"{"metadata": {"labels": "flat"}, "spec": {"replicas": {"min": 1}, "strategy": ["x"]}}"#)
        #expect(result[path: ["metadata", "labels"]] == "flat")
        #expect(result[path: ["spec", "replicas"]] == ["min": 1])
        #expect(result[path: ["spec", "strategy"]] == ["x"])
    }

    @Test("directive keys never reach the result, even in parts the patch creates")
    func noDirectivesInResult() throws {
        let result = try apply(#"""
            {"metadata": {"annotations": {"$patch": "replace", "a": "1", "gone": null}, "$deleteFromPrimitiveList/finalizers": ["example.com/a"]},
             "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "new"}, {"name": "app"}, {"name": "sidecar"}],
                "containers": [{"name": "new", "$setElementOrder/env": [{"name": "X"}], "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}],
                                "resources": {"$retainKeys": ["limits"], "limits": {"cpu": "1"}}}],
                "tolerations": [{"$patch": "replace"}, {"key": "a", "$patch": "merge"}],
                "affinity": {"nodeAffinity": {"$patch": "merge", "required": {"terms": [{"$patch": "delete"}]}}}}}}}
            """#)
        #expect(directiveKeys(in: result) == [])
        #expect(result[path: ["metadata", "annotations"]] == ["a": "1"])
        #expect(result[path: ["metadata", "finalizers"]] == [])
        try #expect(containers(result)[0] == json(#"{"name": "new", "env": [{"name": "X", "value": "1"}], "resources": {"limits": {"cpu": "1"}}}"#))
        #expect(result[path: ["spec", "template", "spec", "tolerations"]] == [["key": "a"]])
    }

    @Test("$patch at the top level replaces or empties the whole object")
    func topLevelDirectives() throws {
        try #expect(apply(#"{"$patch": "replace", "kind": "Deployment"}"#) == ["kind": "Deployment"])
        try #expect(apply(#"{"$patch": "delete"}"#) == [:])
    }

    /// Patches that are not valid strategic merge patches, and what the error says.
    static let malformedPatches: [(String, String)] = [
        ("[1, 2]", "a strategic merge patch must be a JSON object, got array"),
        (#"{"$patch": "explode"}"#, #"top level: unknown $patch directive "explode" (expected "merge", "replace" or "delete")"#),
        (#"{"spec": {"$patch": 5}}"#, "spec: $patch must be a string, got integer"),
        (#"{"spec": {"strategy": {"$retainKeys": "type"}}}"#, "spec.strategy: $retainKeys must be a list of field names, got string"),
        (#"{"spec": {"strategy": {"$retainKeys": ["type", 1]}}}"#, "spec.strategy: $retainKeys must be a list of field names, but contains 1"),
        (#"{"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}"#,
         #"spec.strategy: field "rollingUpdate" is set by the patch but not listed in $retainKeys"#),
        (#"{"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}"#, "metadata: $deleteFromPrimitiveList/finalizers must be a list, got string"),
        (#"{"metadata": {"$setElementOrder/": []}}"#, #"metadata: directive "$setElementOrder/" names no field"#),
        (#"{"metadata": {"$frobnicate": 1}}"#, #"metadata: unknown directive "$frobnicate""#),
        (#"{"spec": {"template": {"spec": {"$setElementOrder/containers": {"name": "app"}}}}}"#,
         "spec.template.spec: $setElementOrder/containers must be a list, got object"),
        (#"{"spec": {"template": {"spec": {"$setElementOrder/containers": [{"image": "x"}]}}}}"#,
         #"spec.template.spec.containers: element 0 of $setElementOrder has no merge key "name": {"image":"x"}"#),
        (#"{"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}], "containers": [{"name": "sidecar", "image": "b"}, {"name": "app", "image": "a"}]}}}}"#,
         #"spec.template.spec.containers: the patch list does not follow $setElementOrder: "app" is missing from it or out of order"#),
        (#"{"spec": {"template": {"spec": {"containers": [{"$patch": "explode"}]}}}}"#,
         #"spec.template.spec.containers: unknown $patch directive "explode" (expected "merge", "replace" or "delete")"#),
        (#"{"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "$patch": true}]}]}}}}"#,
         #"spec.template.spec.containers[name="app"].env: $patch must be a string, got boolean"#),
    ]

    @Test("a patch that is not a valid strategic merge patch is malformed, and the message says where", arguments: malformedPatches)
    func malformedPatch(patch: String, message: String) throws {
        let error = try #require(try strategicPatchError(patch, to: deploymentText, schema: schema))
        #expect(error == PatchError(.malformed, message))
    }

    /// Valid patches whose keyed-list elements cannot be merged, and what the error says.
    static let failingPatches: [(String, String)] = [
        (#"{"containers": [{"image": "x"}]}"#,
         #"spec.template.spec.containers: element 0 of the patch list has no merge key "name": {"image":"x"}"#),
        (#"{"containers": [{"name": "app"}, {"$patch": "delete"}]}"#,
         #"spec.template.spec.containers: element 1 of the patch list has no merge key "name": {"$patch":"delete"}"#),
        (#"{"containers": ["app"]}"#,
         #"spec.template.spec.containers: element 0 of the patch list is a JSON string, not an object with merge key "name""#),
        (#"{"containers": [{"name": "app", "env": [{"value": "x"}]}]}"#,
         #"spec.template.spec.containers[name="app"].env: element 0 of the patch list has no merge key "name": {"value":"x"}"#),
        (#"{"volumes": [{"emptyDir": {}}]}"#,
         #"spec.template.spec.volumes: element 0 of the patch list has no merge key "name": {"emptyDir":{}}"#),
    ]

    @Test("a keyed-list element without its merge key fails, and the message says where", arguments: failingPatches)
    func failingPatch(podSpec: String, message: String) throws {
        let error = try #require(try strategicPatchError(podSpecPatch(podSpec), to: deploymentText, schema: schema))
        #expect(error == PatchError(.failed, message))
    }
}
