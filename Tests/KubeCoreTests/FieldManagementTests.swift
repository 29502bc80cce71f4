import Testing
@testable import KubeCore

@Suite struct FieldManagementTests {
    let schema = ObjectSchema.builtin(group: "apps", kind: "Deployment")
    let time = "2026-11-26T00:00:00Z"

    func entries(_ object: JSON) -> [String: JSON] {
        var out: [String: JSON] = [:]
        for entry in object[path: ["metadata", "managedFields"]]?.arrayValue ?? [] {
            out["\(entry["manager"]!.stringValue!)/\(entry["operation"]!.stringValue!)"] = entry["fieldsV1"]
        }
        return out
    }

    var deployment: JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": ["name": "web", "namespace": "default", "labels": ["app": "web"], "finalizers": ["x"]],
         "spec": ["replicas": 2, "template": ["spec": ["containers": [["name": "app", "image": "nginx"]]]]]]
    }

    @Test func fieldsV1RoundTripsWithKeyedElementsAndSets() throws {
        let fields: JSON = try JSON.parse("""
            {"f:metadata":{"f:finalizers":{".":{},"v:\\"x\\"":{}},"f:labels":{"f:app":{}}},
             "f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"app\\"}":{".":{},"f:image":{},"f:name":{}}}}}}}
            """)
        let set = try FieldSet(fieldsV1: fields)
        #expect(set.contains([.field("spec"), .field("template"), .field("spec"), .field("containers"), .key(#"{"name":"app"}"#), .field("image")]))
        #expect(set.contains([.field("metadata"), .field("finalizers"), .value(#""x""#)]))
        #expect(set.fieldsV1 == fields)
    }

    @Test func malformedFieldsV1IsAnError() {
        #expect(throws: FieldSet.DecodingError.self) { try FieldSet(fieldsV1: ["x:bad": [:]]) }
        #expect(throws: FieldSet.DecodingError.self) { try FieldSet(fieldsV1: ["f:a": 1]) }
        #expect(throws: ManagedFieldsEntry.DecodingError.self) { try FieldManager.validateEntries(["metadata": ["managedFields": [["operation": "Mangle"]]]]) }
    }

    @Test func createGivesEveryFieldToTheCreator() {
        let created = FieldManager.update(old: nil, new: deployment, manager: "kubectl-create", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        let fields = entries(created)["kubectl-create/Update"]
        #expect(fields?[path: ["f:spec", "f:replicas"]] == [:])
        #expect(fields?[path: ["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"app"}"#, "f:image"]] == [:])
        #expect(fields?[path: ["f:metadata", "f:name"]] == nil)  // server-owned metadata is never tracked
    }

    @Test func updateMovesChangedFieldsToTheUpdater() {
        let created = FieldManager.update(old: nil, new: deployment, manager: "creator", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var changed = created
        changed[path: ["spec", "replicas"]] = 5
        let updated = FieldManager.update(old: created, new: changed, manager: "scaler", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        let all = entries(updated)
        #expect(all["scaler/Update"] == ["f:spec": ["f:replicas": [:]]])
        #expect(all["creator/Update"]?[path: ["f:spec", "f:replicas"]] == nil)
        #expect(all["creator/Update"]?[path: ["f:spec", "f:template"]] != nil)
    }

    @Test func applyCreatesAndReapplyRemovesDroppedFields() throws {
        let applied = try FieldManager.apply(current: nil, applied: deployment, manager: "ci", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        #expect(applied[path: ["metadata", "labels", "app"]] == "web")
        var smaller = deployment
        smaller[path: ["metadata", "labels"]] = nil
        let reapplied = try FieldManager.apply(current: applied, applied: smaller, manager: "ci", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        #expect(reapplied[path: ["metadata", "labels", "app"]] == nil)
        #expect(reapplied[path: ["spec", "replicas"]] == 2)
    }

    @Test func fieldSharedWithAnotherApplierStaysWhenOneDropsIt() throws {
        let first = try FieldManager.apply(current: nil, applied: deployment, manager: "a", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        let second = try FieldManager.apply(current: first, applied: deployment, manager: "b", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var without = deployment
        without[path: ["spec", "replicas"]] = nil
        let dropped = try FieldManager.apply(current: second, applied: without, manager: "a", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        #expect(dropped[path: ["spec", "replicas"]] == 2)
    }

    @Test func conflictWithAnUpdaterNamesManagerAndField() throws {
        let applied = try FieldManager.apply(current: nil, applied: deployment, manager: "ci", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var scaled = applied
        scaled[path: ["spec", "replicas"]] = 9
        let updated = FieldManager.update(old: applied, new: scaled, manager: "hpa", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var config = deployment
        config[path: ["spec", "replicas"]] = 3
        config[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx:2"]]
        do {
            _ = try FieldManager.apply(current: updated, applied: config, manager: "ci", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
            Issue.record("expected a conflict")
        } catch {
            #expect(error.conflicts.map(\.field) == [".spec.replicas"])
            #expect(error.description == #"Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas"#)
        }
        let forced = try FieldManager.apply(current: updated, applied: config, manager: "ci", force: true, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        #expect(forced[path: ["spec", "replicas"]] == 3)
        #expect(entries(forced)["hpa/Update"] == nil)  // its only field was taken
    }

    @Test func keyedListsMergeAndKeepOtherManagersElements() throws {
        let base = try FieldManager.apply(current: nil, applied: deployment, manager: "a", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var sidecar = deployment
        sidecar[path: ["spec", "template", "spec", "containers"]] = [["name": "sidecar", "image": "busybox"]]
        sidecar[path: ["spec", "replicas"]] = nil
        let both = try FieldManager.apply(current: base, applied: sidecar, manager: "b", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        let names = both[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["app", "sidecar"])
        // b stops applying its container: only that element goes.
        var none = sidecar
        none[path: ["spec", "template", "spec", "containers"]] = nil
        let after = try FieldManager.apply(current: both, applied: none, manager: "b", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        #expect(after[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["app"])
    }

    @Test func setListsUnionAndAtomicListsReplace() throws {
        let base = try FieldManager.apply(current: nil, applied: deployment, manager: "a", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        let more: JSON = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "finalizers": ["y"]],
                          "spec": ["template": ["spec": ["containers": [["name": "app", "args": ["--v=2"]]]]]]]
        let merged = try FieldManager.apply(current: base, applied: more, manager: "b", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        #expect(merged[path: ["metadata", "finalizers"]] == ["x", "y"])
        #expect(merged[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["args"] == ["--v=2"])
        #expect(merged[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["image"] == "nginx")
    }

    @Test func clientMayClearManagedFields() {
        let created = FieldManager.update(old: nil, new: deployment, manager: "a", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var cleared = created
        cleared[path: ["metadata", "managedFields"]] = []
        #expect(FieldManager.update(old: created, new: cleared, manager: "a", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)[path: ["metadata", "managedFields"]] == nil)
    }
}
