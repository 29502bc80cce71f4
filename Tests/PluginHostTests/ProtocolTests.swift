import KubeClient
import KubeCore
@testable import PluginHost
import Testing

@Suite struct ResponseParsingTests {
    func parse(_ text: String) throws(InvalidResponse) -> PluginResponse {
        try PluginResponse.parse(Array(text.utf8))
    }

    @Test func everyActionParses() throws {
        let response = try parse("""
            {"actions": [
              {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}},
              {"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}, "force": false, "ownerReference": false},
              {"type": "create", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}}},
              {"type": "update", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d", "resourceVersion": "7"}}},
              {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "e", "patchType": "merge", "patch": {"data": {"k": "v"}}},
              {"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "namespace": "y", "name": "f", "patchType": "json", "patch": [{"op": "remove", "path": "/data/k"}]},
              {"type": "delete", "apiVersion": "apps/v1", "kind": "Deployment", "name": "g", "uid": "u-1"},
              {"type": "status", "status": {"ready": true}},
              {"type": "event", "eventType": "Warning", "reason": "Broken", "message": "it broke"},
              {"type": "addFinalizer", "finalizer": "example.com/cleanup"},
              {"type": "removeFinalizer", "finalizer": "example.com/cleanup"}
            ], "requeueAfterSeconds": 1.5, "error": "partly failed"}
            """)
        #expect(response.actions.map(\.name) == ["apply", "apply", "create", "update", "patch", "patch", "delete", "status", "event", "addFinalizer", "removeFinalizer"])
        #expect(response.requeueAfter == .milliseconds(1500))
        #expect(response.error == "partly failed")
        guard case .apply(_, let force, let owner) = response.actions[1] else { Issue.record("not an apply"); return }
        #expect(force == false && owner == false)
        guard case .apply(_, let defaultForce, let defaultOwner) = response.actions[0] else { Issue.record("not an apply"); return }
        #expect(defaultForce == true && defaultOwner == nil)
        #expect(response.actions[6] == .delete(target: ObjectTarget(apiVersion: "apps/v1", kind: "Deployment", namespace: nil, name: "g"), uid: "u-1"))
        #expect(response.actions[8] == .event(type: .warning, reason: "Broken", message: "it broke"))
    }

    @Test func emptyObjectIsNoActions() throws {
        #expect(try parse("{}") == PluginResponse())
        #expect(try parse(#"{"actions": null, "error": ""}"#) == PluginResponse())
    }

    @Test(arguments: [
        ("not json", "", "not JSON"),
        ("[]", "", "must be a JSON object, got array"),
        (#"{"action": []}"#, "action", "unknown field"),
        (#"{"actions": {}}"#, "actions", "must be an array"),
        (#"{"actions": [3]}"#, "actions[0]", "must be an object"),
        (#"{"actions": [{"type": "explode"}]}"#, "actions[0].type", "unknown action type \"explode\""),
        (#"{"actions": [{}]}"#, "actions[0].type", "is required"),
        (#"{"actions": [{"type": "apply"}]}"#, "actions[0].object", "must be an object"),
        (#"{"actions": [{"type": "apply", "object": {"kind": "ConfigMap", "metadata": {"name": "a"}}}]}"#, "actions[0].object.apiVersion", "is required"),
        (#"{"actions": [{"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}}]}"#, "actions[0].object.metadata.name", "is required"),
        (#"{"actions": [{"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "force": "yes"}]}"#, "actions[0].force", "true or false"),
        (#"{"actions": [{"type": "apply", "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "owner": true}]}"#, "actions[0].owner", "unknown field"),
        (#"{"actions": [{"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "strategic", "patch": {}}]}"#, "actions[0].patchType", "\"merge\" or \"json\""),
        (#"{"actions": [{"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "json", "patch": {}}]}"#, "actions[0].patch", "array of operations"),
        (#"{"actions": [{"type": "patch", "apiVersion": "v1", "kind": "ConfigMap", "name": "a", "patchType": "merge", "patch": []}]}"#, "actions[0].patch", "must be an object"),
        (#"{"actions": [{"type": "delete", "apiVersion": "v1", "kind": "ConfigMap"}]}"#, "actions[0].name", "is required"),
        (#"{"actions": [{"type": "status", "status": "ok"}]}"#, "actions[0].status", "must be an object"),
        (#"{"actions": [{"type": "event", "reason": "not camel"}]}"#, "actions[0].reason", "UpperCamelCase"),
        (#"{"actions": [{"type": "event", "eventType": "Error", "reason": "X"}]}"#, "actions[0].eventType", "\"Normal\" or \"Warning\""),
        (#"{"actions": [{"type": "addFinalizer", "finalizer": "cleanup"}]}"#, "actions[0].finalizer", "qualified name"),
        (#"{"requeueAfterSeconds": -1}"#, "requeueAfterSeconds", "above 0"),
        (#"{"requeueAfterSeconds": "10"}"#, "requeueAfterSeconds", "above 0"),
        (#"{"error": 5}"#, "error", "must be a string"),
    ])
    func badResponsesNameThePlace(body: String, path: String, message: String) {
        do {
            _ = try parse(body)
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.path == path, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }
}

@Suite struct RequestBuildingTests {
    @Test func bodySplicesCachedBytesIntoTheEnvelope() throws {
        let primary = try KubeObject(json: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a \"q\"","namespace":"ns","uid":"u1","resourceVersion":"5","deletionTimestamp":"2026-01-01T00:00:00Z"},"data":{"k":"v"}}"#)
        let child = try KubeObject(json: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"ns"}}"#)
        let body = ReconcileRequestBuilder(plugin: "p").body(key: ReconcileKey(primary.metadata), attempt: 3, object: primary,
                                                             children: [("Secret.v1", [child, child]), ("Service.v1", [])],
                                                             related: [("Namespace.v1", [])])
        let json = try JSON.parse(body)
        #expect(json["apiVersion"] == "plugboard.dev/v1alpha1")
        #expect(json["kind"] == "ReconcileRequest")
        #expect(json["plugin"] == "p")
        #expect(json["key"] == ["namespace": "ns", "name": "a \"q\""])
        #expect(json["attempt"] == 3)
        #expect(json["deleting"] == true)
        #expect(json["object"] == (try primary.json))
        #expect(json["children"]?["Secret.v1"]?.arrayValue?.count == 2)
        #expect(json["children"]?["Service.v1"] == .array([]))
        #expect(json["related"] == ["Namespace.v1": .array([])])
        // The cached bytes are carried as they are.
        #expect(String(decoding: body, as: UTF8.self).contains(primary.text))
    }

    @Test func goneObjectIsNull() throws {
        let body = ReconcileRequestBuilder(plugin: "p").body(key: ReconcileKey(namespace: "", name: "x"), attempt: 1, object: nil, children: [], related: [])
        let json = try JSON.parse(body)
        #expect(json["object"] == .null)
        #expect(json["deleting"] == false)
        #expect(json["children"] == .object([:]))
    }
}
