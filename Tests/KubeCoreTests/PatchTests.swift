import Testing
@testable import KubeCore

@Suite struct JSONPatchTests {
    let doc: JSON = ["data": ["a": "1", "b": "2"], "list": [1, 2, 3]]

    @Test func addReplaceRemoveMoveCopyAndTest() throws {
        let patch = try JSON.parse("""
            [{"op":"add","path":"/data/c","value":"3"},
             {"op":"replace","path":"/data/a","value":"10"},
             {"op":"remove","path":"/data/b"},
             {"op":"add","path":"/list/-","value":4},
             {"op":"add","path":"/list/0","value":0},
             {"op":"move","from":"/data/c","path":"/moved"},
             {"op":"copy","from":"/data/a","path":"/copied"},
             {"op":"test","path":"/list/4","value":4.0}]
            """)
        let result = try JSONPatch.apply(patch, to: doc)
        #expect(result == ["data": ["a": "10"], "list": [0, 1, 2, 3, 4], "moved": "3", "copied": "10"])
    }

    @Test func pointerEscapesSlashAndTilde() throws {
        let patch: JSON = [["op": "add", "path": "/metadata/annotations/example.com~1a~0b", "value": "x"]]
        let result = try JSONPatch.apply(patch, to: ["metadata": ["annotations": [:]]])
        #expect(result[path: ["metadata", "annotations", "example.com/a~b"]] == "x")
    }

    @Test func malformedPatchesAreMalformed() {
        for bad: JSON in [["op": "add"], [["path": "/a"]], [["op": "frob", "path": "/a"]], [["op": "add", "path": "a", "value": 1]], [["op": "add", "path": "/a"]]] {
            #expect(throws: PatchError.self) { try JSONPatch.apply(bad, to: doc) }
            do { _ = try JSONPatch.apply(bad, to: doc) } catch { #expect(error.kind == .malformed) }
        }
    }

    @Test func patchesThatDoNotApplyFailAndNameTheOp() {
        let cases: [(JSON, String)] = [
            ([["op": "remove", "path": "/data/nope"]], "op 0 (remove)"),
            ([["op": "add", "path": "/data/a", "value": "x"], ["op": "test", "path": "/data/a", "value": "y"]], "op 1 (test)"),
            ([["op": "add", "path": "/list/9", "value": 1]], "out of range"),
            ([["op": "replace", "path": "/missing/x", "value": 1]], "does not exist"),
        ]
        for (patch, fragment) in cases {
            do {
                _ = try JSONPatch.apply(patch, to: doc)
                Issue.record("expected \(patch) to fail")
            } catch {
                #expect(error.kind == .failed)
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }
}

@Suite struct MergePatchTests {
    @Test func rfc7386Examples() {
        let original: JSON = ["title": "Goodbye!", "author": ["givenName": "John", "familyName": "Doe"], "tags": ["example", "sample"], "content": "This will be unchanged"]
        let patch: JSON = ["title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": ["familyName": .null], "tags": ["example"]]
        #expect(MergePatch.apply(patch, to: original) == ["title": "Hello!", "author": ["givenName": "John"], "tags": ["example"],
                                                          "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"])
        #expect(MergePatch.apply(["a": ["b": "c"]], to: ["a": "scalar"]) == ["a": ["b": "c"]])
        #expect(MergePatch.apply("replace", to: ["a": 1]) == "replace")
    }

    @Test func createRoundTrips() {
        let pairs: [(JSON, JSON)] = [
            (["a": 1, "b": ["c": 2, "d": 3]], ["a": 2, "b": ["c": 2], "e": [1, 2]]),
            (["x": [1, 2]], ["x": [2]]),
            ([:], ["new": ["deep": true]]),
        ]
        for (a, b) in pairs {
            #expect(MergePatch.apply(MergePatch.create(from: a, to: b), to: a) == b)
        }
    }
}

@Suite struct StrategicMergePatchTests {
    let schema = ObjectSchema.builtin(group: "apps", kind: "Deployment")
    var deployment: JSON {
        ["spec": ["template": ["spec": ["containers": [
            ["name": "app", "image": "nginx:1", "env": [["name": "A", "value": "1"]], "ports": [["containerPort": 80, "protocol": "TCP"]]],
            ["name": "sidecar", "image": "busybox"],
        ]]]], "metadata": ["finalizers": ["a"]]]
    }

    func containers(_ json: JSON) -> [JSON] { json[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? [] }

    @Test func containersMergeByNameAndOthersStay() throws {
        let patch: JSON = ["spec": ["template": ["spec": ["containers": [["name": "app", "image": "nginx:2", "env": [["name": "B", "value": "2"]]]]]]]]
        let result = try StrategicMergePatch.apply(patch, to: deployment, schema: schema)
        let list = containers(result)
        #expect(list.map { $0["name"] } == ["app", "sidecar"])
        #expect(list[0]["image"] == "nginx:2")
        #expect(list[0]["env"] == [["name": "A", "value": "1"], ["name": "B", "value": "2"]])
        #expect(list[0]["ports"] == [["containerPort": 80, "protocol": "TCP"]])
    }

    @Test func deleteDirectiveRemovesAnElement() throws {
        let patch: JSON = ["spec": ["template": ["spec": ["containers": [["name": "sidecar", "$patch": "delete"]]]]]]
        #expect(containers(try StrategicMergePatch.apply(patch, to: deployment, schema: schema)).map { $0["name"] } == ["app"])
    }

    @Test func replaceDirectiveReplacesTheList() throws {
        let patch: JSON = ["spec": ["template": ["spec": ["containers": [["$patch": "replace"], ["name": "only", "image": "x"]]]]]]
        #expect(containers(try StrategicMergePatch.apply(patch, to: deployment, schema: schema)) == [["name": "only", "image": "x"]])
    }

    @Test func replaceDirectiveOnAMap() throws {
        let patch: JSON = ["spec": ["template": ["$patch": "replace", "spec": ["containers": [["name": "n", "image": "i"]]]]]]
        let result = try StrategicMergePatch.apply(patch, to: deployment, schema: schema)
        #expect(result[path: ["spec", "template"]] == ["spec": ["containers": [["name": "n", "image": "i"]]]])
    }

    @Test func setListsTakeTheUnionAndDeleteFromPrimitiveListRemoves() throws {
        let added = try StrategicMergePatch.apply(["metadata": ["finalizers": ["b", "a"]]], to: deployment, schema: schema)
        #expect(added[path: ["metadata", "finalizers"]] == ["a", "b"])
        let removed = try StrategicMergePatch.apply(["metadata": ["$deleteFromPrimitiveList/finalizers": ["a"]]], to: added, schema: schema)
        #expect(removed[path: ["metadata", "finalizers"]] == ["b"])
    }

    @Test func setElementOrderReorders() throws {
        let patch: JSON = ["spec": ["template": ["spec": ["$setElementOrder/containers": [["name": "sidecar"], ["name": "app"]]]]]]
        #expect(containers(try StrategicMergePatch.apply(patch, to: deployment, schema: schema)).map { $0["name"] } == ["sidecar", "app"])
    }

    @Test func retainKeysDropsOtherKeys() throws {
        let patch: JSON = ["spec": ["strategy": ["$retainKeys": ["type"], "type": "Recreate"]]]
        let doc: JSON = ["spec": ["strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1]]]]
        #expect(try StrategicMergePatch.apply(patch, to: doc, schema: schema)[path: ["spec", "strategy"]] == ["type": "Recreate"])
    }

    @Test func atomicListsAreReplacedAndNullDeletes() throws {
        let doc: JSON = ["spec": ["template": ["spec": ["containers": [["name": "a", "image": "i", "args": ["x", "y"]]]]]], "keep": 1, "drop": 2]
        let patch: JSON = ["spec": ["template": ["spec": ["containers": [["name": "a", "args": ["z"]]]]]], "drop": .null]
        let result = try StrategicMergePatch.apply(patch, to: doc, schema: schema)
        #expect(containers(result)[0]["args"] == ["z"])
        #expect(result["drop"] == nil && result["keep"] == 1)
    }

    @Test func elementWithoutMergeKeyFails() {
        let patch: JSON = ["spec": ["template": ["spec": ["containers": [["image": "x"]]]]]]
        do {
            _ = try StrategicMergePatch.apply(patch, to: deployment, schema: schema)
            Issue.record("expected failure")
        } catch {
            #expect(error.kind == .failed)
            #expect(error.message.contains("merge key \"name\""))
        }
        #expect(throws: PatchError.self) { try StrategicMergePatch.apply(["$patch": "explode"], to: deployment, schema: schema) }
        #expect(throws: PatchError.self) { try StrategicMergePatch.apply([1, 2], to: deployment, schema: schema) }
    }
}
