import Testing
@testable import KubeCore

/// Field paths and sets, and their `fieldsV1` form.
@Suite struct FieldSetTests {
    let containerImage: FieldPath = [.field("spec"), .field("template"), .field("spec"), .field("containers"),
                                     FieldPathElement(key: ["name": "nginx"]), .field("image")]

    @Test func deploymentEntryRoundTripsThroughFieldsV1() throws {
        // Shaped like what `kubectl create deployment` leaves behind.
        let fieldsV1 = try JSON.parse("""
            {"f:metadata":{"f:finalizers":{".":{},"v:\\"example.com/guard\\"":{}},"f:labels":{".":{},"f:app":{}}},
             "f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:spec":{"f:containers":{
               "k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{},
                 "f:ports":{".":{},"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}}}}}}
            """)
        let set = try FieldSet(fieldsV1: fieldsV1)
        #expect(set.contains(containerImage))
        #expect(set.contains([.field("metadata"), .field("finalizers"), FieldPathElement(value: "example.com/guard")]))
        #expect(set.contains([.field("metadata"), .field("labels")]))  // the "." member
        #expect(!set.contains([.field("spec")]))  // only a node, not a member
        #expect(set.count == 13)
        #expect(set.fieldsV1 == fieldsV1)
        #expect(try FieldSet(fieldsV1: set.fieldsV1) == set)
    }

    @Test func malformedFieldsV1IsAClearError() throws {
        #expect(throws: FieldSet.DecodingError(location: ".spec", message: #"key "replicas": missing colon after the type letter"#)) {
            try FieldSet(fieldsV1: ["f:spec": ["replicas": [:]]])
        }
        #expect(throws: FieldSet.DecodingError(location: ".spec.replicas", message: "expected an object, got integer")) {
            try FieldSet(fieldsV1: ["f:spec": ["f:replicas": 1]])
        }
        #expect(throws: FieldSet.DecodingError.self) { try FieldSet(fieldsV1: ["k:[\"a\"]": [:]]) }
        #expect(throws: FieldSet.DecodingError.self) { try FieldSet(fieldsV1: ["v:{nope": [:]]) }
        #expect(throws: FieldSet.DecodingError.self) { try FieldSet(fieldsV1: ["i:first": [:]]) }
        #expect(throws: FieldSet.DecodingError.self) { try FieldSet(fieldsV1: ["f": [:]]) }
        #expect(throws: FieldSet.DecodingError.self) { try FieldSet(fieldsV1: "f:spec") }
        do {
            _ = try FieldSet(fieldsV1: ["f:data": ["f:key": "x"]])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "invalid fieldsV1 at .data.key: expected an object, got string")
        }
        // Like structured-merge-diff, element kinds it does not know are skipped, and null is {}.
        #expect(try FieldSet(fieldsV1: ["f:a": .null, "x:future": [:]]) == [[.field("a")]])
    }

    @Test func setOperationsAndLeaves() {
        let replicas = FieldPath(fields: "spec", "replicas")
        let container: FieldPath = [.field("spec"), .field("containers"), FieldPathElement(key: ["name": "app"])]
        let image = container.appending(.field("image"))
        let a: FieldSet = [replicas, container, image]
        let b: FieldSet = [replicas, FieldPath(fields: "data", "x")]
        #expect(a.union(b).count == 4)
        #expect(a.subtracting(b) == [container, image])
        #expect(a.intersection(b) == [replicas])
        #expect(a.leaves == [replicas, image])
        #expect(a.contains(container) && !a.contains(FieldPath(fields: "spec")))
        #expect(FieldSet().isEmpty && !a.isEmpty)
        #expect(a.orderedPaths == [replicas, container, image])  // members of a level before the levels below
    }

    @Test func pathsRenderAsKubernetesPrintsThem() {
        #expect(containerImage.description == #".spec.template.spec.containers[name="nginx"].image"#)
        #expect(FieldPath([.field("metadata"), .field("finalizers"), FieldPathElement(value: "a")]).description == #".metadata.finalizers[="a"]"#)
        let port: FieldPath = [.field("spec"), .field("ports"), FieldPathElement(key: ["port": 80, "protocol": "TCP"])]
        #expect(port.description == #".spec.ports[port=80,protocol="TCP"]"#)
        #expect(FieldPath([.field("args"), .index(0)]).description == ".args[0]")
        #expect(FieldPathElement(key: ["name": "app"]).encoded == #"k:{"name":"app"}"#)
        #expect(FieldPathElement(value: 1.0).encoded == "v:1")
    }

    @Test func fieldSetOfAnObjectFollowsTheSchema() {
        let schema = ObjectSchema.builtin(group: "apps", kind: "Deployment")
        let object: JSON = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web", "namespace": "default", "resourceVersion": "7", "uid": "u", "labels": ["app": "web"], "finalizers": ["a"]],
            "spec": ["selector": ["matchLabels": ["app": "web"]], "template": ["spec": [
                "containers": [["name": "app", "image": "nginx", "args": ["-v"], "ports": [["containerPort": 80]], "resources": [:]]],
                "tolerations": [["key": "k"]],
            ]]],
        ]
        let set = FieldSet(of: object, schema: schema)
        let app: FieldPath = [.field("spec"), .field("template"), .field("spec"), .field("containers"), FieldPathElement(key: ["name": "app"])]
        let expected: FieldSet = [
            FieldPath(fields: "metadata", "labels", "app"),
            [.field("metadata"), .field("finalizers"), FieldPathElement(value: "a")],
            FieldPath(fields: "spec", "selector", "matchLabels", "app"),
            app, app.appending(.field("name")), app.appending(.field("image")),
            app.appending(.field("args")),  // atomic list: one leaf
            app.appending(.field("resources")),  // empty object: a leaf
            // A port without protocol is named with the default, as the stored (defaulted) one is.
            app.appending(.field("ports")).appending(FieldPathElement(key: ["containerPort": 80, "protocol": "TCP"])),
            app.appending(.field("ports")).appending(FieldPathElement(key: ["containerPort": 80, "protocol": "TCP"])).appending(.field("containerPort")),
            FieldPath(fields: "spec", "template", "spec", "tolerations"),
        ]
        #expect(set == expected)
    }
}

/// Entries of `metadata.managedFields` and what the server accepts in them.
@Suite struct ManagedFieldsEntryTests {
    @Test func entryRoundTripsInTheKubernetesShape() throws {
        let json: JSON = ["manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-26T10:00:00Z",
                          "fieldsType": "FieldsV1", "fieldsV1": ["f:status": ["f:phase": [:]]], "subresource": "status"]
        let entry = try ManagedFieldsEntry(json: json, index: 0)
        #expect(entry.manager == "kubelet" && entry.operation == .update && entry.subresource == "status")
        #expect(entry.fields == [FieldPath(fields: "status", "phase")])
        #expect(entry.json == json)
    }

    @Test func unusableEntriesAreRefusedWithTheirIndex() {
        #expect(throws: ManagedFieldsEntry.DecodingError(index: 2, message: "operation must be `Apply` or `Update`")) {
            try ManagedFieldsEntry(json: ["operation": "Mangle", "apiVersion": "v1", "fieldsType": "FieldsV1"], index: 2)
        }
        #expect(throws: ManagedFieldsEntry.DecodingError(index: 0, message: "missing fieldsType")) {
            try ManagedFieldsEntry(json: ["operation": "Apply", "apiVersion": "v1"], index: 0)
        }
        #expect(throws: ManagedFieldsEntry.DecodingError.self) {
            try ManagedFieldsEntry(json: ["operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": ["bad": [:]]], index: 0)
        }
    }

    @Test func malformedManagedFieldsInARequestAreErrors() {
        func request(_ entries: JSON) -> JSON { ["metadata": ["name": "x", "managedFields": entries]] }
        #expect(throws: ManagedFieldsError.self) { try FieldManager.validateEntries(request("all")) }
        do {
            try FieldManager.validateEntries(request([["manager": 7, "operation": "Update"]]))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .malformed)
            #expect(error.description == "metadata.managedFields[0].manager: expected a string, got integer")
        }
        do {
            try FieldManager.validateEntries(request([["manager": .string(String(repeating: "m", count: 129)), "operation": "Update"]]))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalid)
            #expect(error.causes == [.init(reason: "FieldValueTooLong", message: "Too long: may not be more than 128 bytes",
                                           field: "metadata.managedFields[0].manager")])
        }
        #expect(throws: ManagedFieldsError.self) { try FieldManager.validateEntries(request([["time": "yesterday"]])) }
        #expect(throws: ManagedFieldsError.self) { try FieldManager.validateApplyConfiguration(request([])) }
        #expect(throws: Never.self) { try FieldManager.validateEntries(request([["manager": "m", "operation": "Update", "time": "2026-01-01T00:00:00Z"]])) }
    }
}

/// Creates, updates and non-apply patches.
@Suite struct FieldManagerUpdateTests {
    let schema = ObjectSchema.builtin(group: "apps", kind: "Deployment")
    let t0 = "2026-11-26T00:00:00Z"
    let t1 = "2026-11-26T00:01:00Z"

    var deployment: JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": ["name": "web", "namespace": "default", "labels": ["app": "web"]],
         "spec": ["replicas": 2, "template": ["spec": ["containers": [["name": "app", "image": "nginx"]]]]]]
    }

    func update(_ old: JSON?, _ new: JSON, by manager: String, apiVersion: String = "apps/v1", subresource: String? = nil, at time: String? = nil) -> JSON {
        FieldManager.update(old: old, new: new, manager: manager, apiVersion: apiVersion, subresource: subresource, schema: schema, time: time ?? t0)
    }

    @Test func createGivesEveryFieldToTheCreator() throws {
        let created = update(nil, deployment, by: "kubectl-create")
        let entries = FieldManager.entries(of: created)
        #expect(entries.count == 1)
        #expect(entries[0].manager == "kubectl-create" && entries[0].operation == .update && entries[0].time == t0)
        // Maps and elements the write created are members too: that is the "." kube-apiserver writes.
        #expect(created[path: ["metadata", "managedFields"]]?.arrayValue?.first?["fieldsV1"] == [
            "f:metadata": ["f:labels": [".": [:], "f:app": [:]]],
            "f:spec": [".": [:], "f:replicas": [:], "f:template": [".": [:], "f:spec": [".": [:], "f:containers": [
                ".": [:], #"k:{"name":"app"}"#: [".": [:], "f:image": [:], "f:name": [:]],
            ]]]],
        ])
    }

    @Test func updateMovesChangedFieldsToTheUpdater() {
        let created = update(nil, deployment, by: "creator")
        var scaled = created
        scaled[path: ["spec", "replicas"]] = 5
        let updated = update(created, scaled, by: "scaler", at: t1)
        let entries = FieldManager.entries(of: updated)
        #expect(entries.first { $0.manager == "scaler" }?.fields == [FieldPath(fields: "spec", "replicas")])
        #expect(entries.first { $0.manager == "scaler" }?.time == t1)
        let creator = entries.first { $0.manager == "creator" }
        #expect(creator?.fields.contains(FieldPath(fields: "spec", "replicas")) == false)
        #expect(creator?.fields.contains(FieldPath(fields: "metadata", "labels", "app")) == true)
        #expect(creator?.time == t0)  // untouched entries keep their time

        // The same manager again: merged into its entry; a write that changes nothing moves no time.
        var relabeled = updated
        relabeled[path: ["metadata", "labels", "tier"]] = "web"
        let again = update(updated, relabeled, by: "scaler", at: t1)
        #expect(FieldManager.entries(of: again).first { $0.manager == "scaler" }?.fields.count == 2)
        let noop = update(again, again, by: "scaler", at: "2026-11-26T09:00:00Z")
        #expect(noop[path: ["metadata", "managedFields"]] == again[path: ["metadata", "managedFields"]])
    }

    @Test func removedFieldsLeaveEveryManagerAndEmptyEntriesGo() {
        let created = update(nil, deployment, by: "creator")
        var scaled = created
        scaled[path: ["spec", "replicas"]] = 5
        let updated = update(created, scaled, by: "scaler")
        var trimmed = updated
        trimmed[path: ["spec", "replicas"]] = nil
        let result = update(updated, trimmed, by: "editor")
        let managers = FieldManager.entries(of: result).map(\.manager)
        #expect(managers == ["creator"])  // scaler owned only replicas; editor changed nothing it could own
    }

    @Test func clientSuppliedManagedFieldsAreHonouredAndAnEmptyListClears() throws {
        let created = update(nil, deployment, by: "creator")
        var edited = created
        edited[path: ["metadata", "managedFields"]] = [["manager": "someone", "operation": "Apply", "apiVersion": "apps/v1",
                                                        "fieldsType": "FieldsV1", "fieldsV1": ["f:spec": ["f:replicas": [:]]]]]
        let honoured = update(created, edited, by: "kubectl-edit")
        #expect(FieldManager.entries(of: honoured).map(\.manager) == ["someone"])

        var cleared = created
        cleared[path: ["metadata", "managedFields"]] = []
        #expect(update(created, cleared, by: "kubectl-edit")[path: ["metadata", "managedFields"]] == nil)

        // An unusable list is ignored and the live entries kept, as kube-apiserver does.
        var garbage = created
        garbage[path: ["metadata", "managedFields"]] = [["operation": "Mangle"]]
        #expect(update(created, garbage, by: "kubectl-edit")[path: ["metadata", "managedFields"]] == created[path: ["metadata", "managedFields"]])

        // A subresource write never takes managedFields from the request.
        var status = created
        status["status"] = ["replicas": 2]
        status[path: ["metadata", "managedFields"]] = []
        let viaStatus = update(created, status, by: "controller", subresource: "status")
        #expect(FieldManager.entries(of: viaStatus).map(\.manager).sorted() == ["controller", "creator"])
    }

    @Test func versionsAndSubresourcesKeepSeparateEntriesInKubernetesOrder() throws {
        let created = update(nil, deployment, by: "a", at: t1)
        var v2 = created
        v2[path: ["spec", "paused"]] = true
        let viaBeta = update(created, v2, by: "a", apiVersion: "apps/v1beta2", at: t0)
        var status = viaBeta
        status["status"] = ["replicas": 2]
        let withStatus = update(viaBeta, status, by: "a", subresource: "status", at: t1)
        let applied = try FieldManager.apply(current: withStatus, applied: ["apiVersion": "apps/v1", "kind": "Deployment",
                                                                           "metadata": ["name": "web"], "spec": ["minReadySeconds": 3]],
                                             manager: "z", force: false, apiVersion: "apps/v1", subresource: nil, schema: schema, time: t1)
        let order = FieldManager.entries(of: applied).map { "\($0.manager) \($0.operation.rawValue) \($0.apiVersion) \($0.subresource ?? "-")" }
        // Apply first, then oldest first, then manager, version, subresource.
        #expect(order == ["z Apply apps/v1 -", "a Update apps/v1beta2 -", "a Update apps/v1 -", "a Update apps/v1 status"])
    }

    @Test func moreThanTenUpdatersAreFoldedIntoAncientChanges() {
        var object = update(nil, deployment, by: "creator", at: "2026-01-01T00:00:00Z")
        for i in 1...11 {
            var next = object
            next[path: ["metadata", "annotations", "k\(i)"]] = "v"
            object = update(object, next, by: "controller-\(i)", at: "2026-01-01T00:00:\(i < 10 ? "0" : "")\(i)Z")
        }
        let entries = FieldManager.entries(of: object)
        #expect(entries.count == 10)
        let ancient = entries.first { $0.manager == "ancient-changes" }
        // The two oldest (creator, controller-1) and then controller-2 were folded together.
        #expect(ancient?.fields.contains(FieldPath(fields: "metadata", "annotations", "k2")) == true)
        #expect(ancient?.fields.contains(FieldPath(fields: "spec", "replicas")) == true)
        #expect(ancient?.time == "2026-01-01T00:00:02Z")
        #expect(!entries.contains { ["creator", "controller-1", "controller-2"].contains($0.manager) })
    }
}

/// Server-side apply.
@Suite struct FieldManagerApplyTests {
    let schema = ObjectSchema.builtin(group: "apps", kind: "Deployment")
    let time = "2026-11-26T00:00:00Z"

    var deployment: JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": ["name": "web", "namespace": "default", "labels": ["app": "web"], "finalizers": ["x"]],
         "spec": ["replicas": 2, "template": ["spec": ["containers": [["name": "app", "image": "nginx"]]]]]]
    }

    func apply(_ current: JSON?, _ config: JSON, by manager: String, force: Bool = false, schema: ObjectSchema? = nil,
               apiVersion: String = "apps/v1", at time: String? = nil) throws(ApplyConflictError) -> JSON {
        try FieldManager.apply(current: current, applied: config, manager: manager, force: force, apiVersion: apiVersion,
                               subresource: nil, schema: schema ?? self.schema, time: time ?? self.time)
    }

    func fields(of object: JSON, _ manager: String) -> FieldSet? {
        FieldManager.entries(of: object).first { $0.manager == manager }?.fields
    }

    func containerNames(_ object: JSON) -> [String]? {
        object[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.compactMap { $0["name"]?.stringValue }
    }

    @Test func applyCreatesTheObjectOwningExactlyTheConfiguration() throws {
        let created = try apply(nil, deployment, by: "ci")
        #expect(created[path: ["spec", "replicas"]] == 2)
        let entry = created[path: ["metadata", "managedFields"]]?.arrayValue?.first
        #expect(entry?["operation"] == "Apply" && entry?["manager"] == "ci" && entry?["time"] == .string(time))
        // Only list elements carry "." in an Apply entry.
        #expect(entry?["fieldsV1"] == [
            "f:metadata": ["f:labels": ["f:app": [:]], "f:finalizers": [#"v:"x""#: [:]]],
            "f:spec": ["f:replicas": [:], "f:template": ["f:spec": ["f:containers": [#"k:{"name":"app"}"#: [".": [:], "f:image": [:], "f:name": [:]]]]]],
        ])
    }

    @Test func reapplyingWithoutAFieldRemovesIt() throws {
        var live = try apply(nil, deployment, by: "ci")
        live[path: ["spec", "progressDeadlineSeconds"]] = 600  // defaulted: nobody owns it
        var smaller = deployment
        smaller[path: ["metadata", "labels"]] = nil
        smaller[path: ["metadata", "finalizers"]] = nil
        let reapplied = try apply(live, smaller, by: "ci")
        #expect(reapplied[path: ["metadata", "labels"]] == nil)
        #expect(reapplied[path: ["metadata", "finalizers"]] == nil)
        #expect(reapplied[path: ["metadata", "name"]] == "web")
        #expect(reapplied[path: ["spec", "replicas"]] == 2)
        #expect(reapplied[path: ["spec", "progressDeadlineSeconds"]] == 600)
        #expect(fields(of: reapplied, "ci") == FieldSet(of: smaller, schema: schema))  // replaced, not unioned
    }

    @Test func aFieldSharedWithAnotherApplierIsKeptWhenOneDropsIt() throws {
        let first = try apply(nil, deployment, by: "a")
        let second = try apply(first, deployment, by: "b")  // same values: shared, no conflict
        var without = deployment
        without[path: ["spec", "replicas"]] = nil
        let dropped = try apply(second, without, by: "a")
        #expect(dropped[path: ["spec", "replicas"]] == 2)
        #expect(fields(of: dropped, "b")?.contains(FieldPath(fields: "spec", "replicas")) == true)
        #expect(fields(of: dropped, "a")?.contains(FieldPath(fields: "spec", "replicas")) == false)
    }

    @Test func conflictWithAnUpdaterIsReportedAsKubernetesReportsIt() throws {
        let generic = ObjectSchema.generic
        let configMap: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cfg"], "data": ["key": "one", "other": "x"]]
        let created = FieldManager.update(old: nil, new: configMap, manager: "kubectl-client-side-apply", apiVersion: "v1",
                                          subresource: nil, schema: generic, time: time)
        var config = configMap
        config[path: ["data", "key"]] = "two"
        do {
            _ = try apply(created, config, by: "ssa", schema: generic, apiVersion: "v1")
            Issue.record("expected a conflict")
        } catch {
            #expect(error.description == #"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.key"#)
            #expect(error.conflicts == [.init(manager: "kubectl-client-side-apply", field: ".data.key",
                                              message: #"conflict with "kubectl-client-side-apply" using v1"#, path: FieldPath(fields: "data", "key"))])
        }
    }

    @Test func severalConflictsAreListedPerManager() throws {
        let base = try apply(nil, deployment, by: "a")
        var scaled = base
        scaled[path: ["spec", "replicas"]] = 9
        scaled[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx:2"]]
        let updated = FieldManager.update(old: base, new: scaled, manager: "hpa", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var config = deployment
        config[path: ["spec", "replicas"]] = 3
        config[path: ["metadata", "labels", "app"]] = "api"
        config[path: ["metadata", "finalizers"]] = ["x", "y"]  // adds a value nobody owns: fine
        config[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx:3"]]
        do {
            _ = try apply(updated, config, by: "b")
            Issue.record("expected conflicts")
        } catch {
            // hpa's update took replicas and the image from a; a still owns the label.
            #expect(error.description == """
                Apply failed with 3 conflicts: conflicts with "a":
                - .metadata.labels.app
                conflicts with "hpa" using apps/v1:
                - .spec.replicas
                - .spec.template.spec.containers[name="app"].image
                """)
            #expect(error.conflicts.map(\.message) == [#"conflict with "a""#, #"conflict with "hpa" using apps/v1"#, #"conflict with "hpa" using apps/v1"#])
        }
    }

    @Test func forceTakesOwnershipFromTheOthers() throws {
        let applied = try apply(nil, deployment, by: "ci")
        var scaled = applied
        scaled[path: ["spec", "replicas"]] = 9
        let updated = FieldManager.update(old: applied, new: scaled, manager: "hpa", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var config = deployment
        config[path: ["spec", "replicas"]] = 3
        #expect(throws: ApplyConflictError.self) { try apply(updated, config, by: "ci") }
        let forced = try apply(updated, config, by: "ci", force: true)
        #expect(forced[path: ["spec", "replicas"]] == 3)
        #expect(fields(of: forced, "hpa") == nil)  // its only field was taken: the entry is gone
        #expect(fields(of: forced, "ci")?.contains(FieldPath(fields: "spec", "replicas")) == true)
    }

    @Test func applyingTheValueAnUpdaterSetIsNotAConflict() throws {
        let applied = try apply(nil, deployment, by: "ci")
        var scaled = applied
        scaled[path: ["spec", "replicas"]] = 9
        let updated = FieldManager.update(old: applied, new: scaled, manager: "hpa", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        var config = deployment
        config[path: ["spec", "replicas"]] = 9
        let shared = try apply(updated, config, by: "ci")
        #expect(fields(of: shared, "hpa") == [FieldPath(fields: "spec", "replicas")])
        #expect(fields(of: shared, "ci")?.contains(FieldPath(fields: "spec", "replicas")) == true)
    }

    @Test func keyedListsMergeByKeyAndKeepOtherManagersElements() throws {
        var config = deployment
        config[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx", "ports": [["containerPort": 80]]]]
        var live = try apply(nil, config, by: "a")
        // The server defaults the port's protocol; re-applying must find that port, not add another.
        live[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx", "ports": [["containerPort": 80, "protocol": "TCP"]]]]
        let again = try apply(live, config, by: "a")
        #expect(again[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["ports"]?.arrayValue?.count == 1)

        var sidecar = deployment
        sidecar[path: ["spec", "template", "spec", "containers"]] = [["name": "sidecar", "image": "busybox"]]
        sidecar[path: ["spec", "replicas"]] = nil
        let both = try apply(again, sidecar, by: "b")
        #expect(containerNames(both) == ["app", "sidecar"])
        // b stops applying its container: only that element goes.
        var none = sidecar
        none[path: ["spec", "template", "spec", "containers"]] = nil
        let after = try apply(both, none, by: "b")
        #expect(containerNames(after) == ["app"])
        #expect(after[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first?["ports"] == [["containerPort": 80, "protocol": "TCP"]])
    }

    @Test func mergedListsFollowTheConfigurationsOrder() throws {
        var base = deployment
        base[path: ["spec", "template", "spec", "containers"]] = [["name": "a", "image": "1"], ["name": "b", "image": "2"]]
        let live = try apply(nil, base, by: "one")
        var other = deployment
        other[path: ["spec", "replicas"]] = nil
        other[path: ["spec", "template", "spec", "containers"]] = [["name": "c", "image": "3"], ["name": "a", "image": "1"]]
        #expect(containerNames(try apply(live, other, by: "two")) == ["c", "a", "b"])
    }

    @Test func setListsTakeTheUnionAndAtomicListsAreReplaced() throws {
        var base = deployment
        base[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx", "args": ["--v=1", "--x"]]]
        let live = try apply(nil, base, by: "a")
        let more: JSON = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "finalizers": ["y", "x"]],
                          "spec": ["template": ["spec": ["containers": [["name": "app", "args": ["--v=2"]]]]]]]
        let merged = try apply(live, more, by: "b", force: true)  // a owns the args with another value
        #expect(merged[path: ["metadata", "finalizers"]] == ["y", "x"])  // union, in the configuration's order
        let container = merged[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container?["args"] == ["--v=2"])
        #expect(container?["image"] == "nginx")
        var fewer = more
        fewer[path: ["metadata", "finalizers"]] = ["y"]
        let withoutX = try apply(merged, fewer, by: "b")
        #expect(withoutX[path: ["metadata", "finalizers"]] == ["y", "x"])  // a still applies "x"; b still applies "y"
    }

    @Test func droppingAnElementRemovesItWholeEvenIfAnUpdaterOwnsAFieldInIt() throws {
        var config = deployment
        config[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx"], ["name": "log", "image": "fluentd"]]
        let live = try apply(nil, config, by: "ci")
        var tuned = live
        tuned[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx"],
                                                                   ["name": "log", "image": "fluentd", "resources": ["limits": ["cpu": "1"]]]]
        let updated = FieldManager.update(old: live, new: tuned, manager: "tuner", apiVersion: "apps/v1", subresource: nil, schema: schema, time: time)
        config[path: ["spec", "template", "spec", "containers"]] = [["name": "app", "image": "nginx"]]
        let result = try apply(updated, config, by: "ci")
        // The element was ci's; structured-merge-diff removes it with everything in it.
        #expect(containerNames(result) == ["app"])
        #expect(fields(of: result, "tuner") == nil)
    }

    @Test func aRequestWithoutAManagerIsRecordedAsUnknown() throws {
        let created = try apply(nil, deployment, by: "")
        #expect(FieldManager.entries(of: created).map(\.manager) == ["unknown"])
    }

    @Test func aNoOpApplyMovesNoTime() throws {
        let created = try apply(nil, deployment, by: "ci", at: "2026-11-26T00:00:00Z")
        let again = try apply(created, deployment, by: "ci", at: "2026-11-26T05:00:00Z")
        #expect(again == created)
    }

    @Test func kubectlMayTakeOverFieldsItAppliedClientSide() throws {
        let generic = ObjectSchema.generic
        var configMap: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cfg"], "data": ["key": "one"]]
        var recorded = configMap
        recorded[path: ["metadata", "annotations"]] = nil
        configMap[path: ["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]] = .string(recorded.serializedString() + "\n")
        let live = FieldManager.update(old: nil, new: configMap, manager: "kubectl-client-side-apply", apiVersion: "v1",
                                       subresource: nil, schema: generic, time: time)
        var config: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cfg"], "data": ["key": "two"]]
        // Another manager name gets the conflict...
        #expect(throws: ApplyConflictError.self) { try apply(live, config, by: "other", schema: generic, apiVersion: "v1") }
        // ...kubectl does not, since the annotation shows kubectl set that value.
        let applied = try apply(live, config, by: "kubectl", schema: generic, apiVersion: "v1")
        #expect(applied[path: ["data", "key"]] == "two")
        #expect(fields(of: applied, "kubectl")?.contains(FieldPath(fields: "data", "key")) == true)
        // The annotation now records what was applied.
        config[path: ["metadata", "annotations"]] = nil
        #expect(applied[path: ["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]]
                == .string(#"{"apiVersion":"v1","data":{"key":"two"},"kind":"ConfigMap","metadata":{"name":"cfg"}}"# + "\n"))
    }
}
