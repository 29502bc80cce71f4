import KubeClient
import KubeCore
import Testing

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The tree of `json` without `metadata.managedFields`.
private func withoutManagedFields(_ json: JSON) -> JSON {
    guard case .object(var o) = json, case .object(var m)? = o["metadata"] else { return json }
    m["managedFields"] = nil
    o["metadata"] = .object(m)
    return .object(o)
}

private let managedFields = #"[{"manager":"kubectl","operation":"Update","apiVersion":"v1","time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:a":{}}}}]"#

private let pod = #"""
{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-7d4b9c-x2x9q","generateName":"web-7d4b9c-","namespace":"shop","uid":"6f1c2e7a-3b5d-4c8e-9f0a-1b2c3d4e5f60","resourceVersion":"482913","creationTimestamp":"2024-05-01T10:00:00Z","labels":{"app":"web","pod-template-hash":"7d4b9c"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2024-05-01T09:59:58Z"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c","uid":"0a1b2c3d-0000-4000-8000-000000000001","controller":true,"blockOwnerDeletion":true}],"managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}}}}]},"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{"limits":{"cpu":"500m","memory":"128Mi"}}}],"restartPolicy":"Always","terminationGracePeriodSeconds":30},"status":{"phase":"Running","podIP":"10.244.1.7","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-05-01T10:00:05Z"}]}}
"""#

@Suite struct MetadataTests {
    @Test func pod() throws {
        let o = try KubeObject(json: KubeClientTests.pod)
        #expect(o.kind == "Pod")
        #expect(o.apiVersion == "v1")
        let m = o.metadata
        #expect(m.name == "web-7d4b9c-x2x9q")
        #expect(m.namespace == "shop")
        #expect(m.uid == "6f1c2e7a-3b5d-4c8e-9f0a-1b2c3d4e5f60")
        #expect(m.resourceVersion == "482913")
        #expect(m.generation == 0)
        #expect(m.labels == ["app": "web", "pod-template-hash": "7d4b9c"])
        #expect(m.annotations == ["kubectl.kubernetes.io/restartedAt": "2024-05-01T09:59:58Z"])
        #expect(m.creationTimestamp == "2024-05-01T10:00:00Z")
        #expect(m.deletionTimestamp == nil)
        #expect(m.finalizers.isEmpty)
        #expect(m.ownerReferences == [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d4b9c",
                                                     uid: "0a1b2c3d-0000-4000-8000-000000000001", controller: true, blockOwnerDeletion: true)])
        #expect(m.controllerReference?.name == "web-7d4b9c")
        // Without a cut the bytes are the ones passed in.
        #expect(o.bytes == bytes(KubeClientTests.pod))
    }

    @Test func deploymentWithOwnerReferences() throws {
        let text = """
        {
          "apiVersion": "apps/v1",
          "kind": "Deployment",
          "metadata": {
            "name": "api",
            "namespace": "prod",
            "uid": "11111111-2222-4333-8444-555555555555",
            "resourceVersion": "99",
            "generation": 17,
            "labels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/managed-by": "plugboard"},
            "ownerReferences": [
              {"apiVersion": "example.com/v1", "kind": "App", "name": "api", "uid": "aaaa", "controller": true, "blockOwnerDeletion": true},
              {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner-cm", "uid": "bbbb"},
              {"apiVersion": "example.com/v1", "kind": "Team", "name": "core", "uid": "cccc", "controller": false, "blockOwnerDeletion": null}
            ],
            "creationTimestamp": null
          },
          "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "api"}}, "template": {"metadata": {"labels": {"app": "api"}, "name": "not-me"}, "spec": {"containers": []}}}
        }
        """
        let m = try KubeObject(json: text).metadata
        #expect(m.name == "api")
        #expect(m.generation == 17)
        #expect(m.creationTimestamp == nil)
        #expect(m.labels.count == 2)
        #expect(m.ownerReferences.count == 3)
        #expect(m.ownerReferences[0] == OwnerReference(apiVersion: "example.com/v1", kind: "App", name: "api", uid: "aaaa", controller: true, blockOwnerDeletion: true))
        #expect(m.ownerReferences[1] == OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "owner-cm", uid: "bbbb"))
        #expect(m.ownerReferences[2].controller == false)
        #expect(m.ownerReferences[2].blockOwnerDeletion == nil)
        #expect(m.controllerReference?.kind == "App")
    }

    @Test func customResourceBeingDeleted() throws {
        let text = #"{"apiVersion":"example.com/v1alpha1","kind":"Database","metadata":{"name":"orders","namespace":"data","uid":"u-1","resourceVersion":"1200","generation":4,"finalizers":["example.com/backup","kubernetes.io/pv-protection"],"deletionTimestamp":"2024-06-01T12:00:00Z","deletionGracePeriodSeconds":0,"creationTimestamp":"2024-01-01T00:00:00Z"},"spec":{"size":"10Gi"},"status":{"observedGeneration":3}}"#
        let o = try KubeObject(json: text)
        #expect(o.kind == "Database")
        #expect(o.apiVersion == "example.com/v1alpha1")
        #expect(o.metadata.finalizers == ["example.com/backup", "kubernetes.io/pv-protection"])
        #expect(o.metadata.deletionTimestamp == "2024-06-01T12:00:00Z")
        #expect(o.metadata.generation == 4)
        #expect(o.metadata.namespace == "data")
    }

    @Test func escapesAndUnicode() throws {
        // An escaped key, escaped and raw non-ASCII text, a surrogate pair, escaped quotes and control characters.
        let text = #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"na\u006de":"caf\u00e9","labels":{"app\/name":"\"quoted\"","emoji":"\ud83d\ude00","jp":"日本","tab":"a\tb\nc\\d","lone":"\ud800x"},"annotations":{"k\u00e9y":"v\u0000"},"namespace":"n\u00edn"}}"#
        let m = try KubeObject(json: text).metadata
        #expect(m.name == "café")
        #expect(m.namespace == "nín")
        #expect(m.labels["app/name"] == "\"quoted\"")
        #expect(m.labels["emoji"] == "😀")
        #expect(m.labels["jp"] == "日本")
        #expect(m.labels["tab"] == "a\tb\nc\\d")
        #expect(m.labels["lone"] == "\u{FFFD}x")
        #expect(m.annotations["kéy"] == "v\u{0}")
        // The tree parser agrees on every label.
        let tree = try KubeObject(json: text).json
        for (k, v) in m.labels where k != "lone" { #expect(tree[path: ["metadata", "labels", k]] == .string(v)) }
    }

    /// Label and annotation maps of every size: empty, null, one member, many (past any first
    /// capacity), a key given twice (the last wins, as in Go), and a non-string value (an error
    /// naming its offset).
    @Test func stringMapsOfEverySize() throws {
        let many = (0..<40).map { #""k\#($0)":"v\#($0)""# }.joined(separator: ",")
        let text = #"{"metadata":{"labels":{"a":"1","b":"2","a":"3"},"annotations":{\#(many)}}}"#
        let m = try KubeObject(json: text).metadata
        #expect(m.labels == ["a": "3", "b": "2"])
        #expect(m.annotations.count == 40)
        #expect(m.annotations["k39"] == "v39")
        #expect(try KubeObject(json: #"{"metadata":{"labels":{},"annotations":null}}"#).metadata.labels.isEmpty)
        #expect(try KubeObject(json: #"{"metadata":{"labels":{"only":"one"}}}"#).metadata.labels == ["only": "one"])
        #expect(throws: ObjectDecodingError(offset: 35, reason: "invalid character '7', expected string")) {
            try KubeObject(json: #"{"metadata":{"labels":{"a":"1","b":7}}}"#)
        }
    }

    @Test func wrongTypesAreErrors() {
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: #"{"metadata":{"name":3}}"#) }
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: #"{"metadata":{"generation":1.5}}"#) }
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: #"{"metadata":{"generation":99999999999999999999}}"#) }
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: #"{"metadata":{"labels":{"a":1}}}"#) }
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: #"{"metadata":{"finalizers":"x"}}"#) }
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: #"{"metadata":{"ownerReferences":[{"controller":"yes"}]}}"#) }
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: #"[1]"#) }
        // Invalid UTF-8 in a decoded string.
        #expect(throws: ObjectDecodingError.self) { try KubeObject(bytes: bytes(#"{"metadata":{"name":""#) + [0xFF] + bytes(#""}}"#)) }
    }
}

/// The metadata fields read on demand (uid, labels, annotations, owner references, finalizers,
/// timestamps): checked when the object is decoded, read from the object's kept bytes later.
@Suite struct LazyMetadataTests {
    /// Every field of `m` against the values written into `fullMetadata`.
    static func expectFull(_ m: ObjectMetadata, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(m.name == "n", sourceLocation: sourceLocation)
        #expect(m.namespace == "ns", sourceLocation: sourceLocation)
        #expect(m.uid == "0a1b2c3d-0000-4000-8000-00000000000f", sourceLocation: sourceLocation)
        #expect(m.resourceVersion == "41", sourceLocation: sourceLocation)
        #expect(m.labels == ["app": "web", "tier": "caf\u{e9}"], sourceLocation: sourceLocation)
        #expect(m.annotations == ["note": "a\"b", "k": ""], sourceLocation: sourceLocation)
        #expect(m.ownerReferences == [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u-rs", controller: true)],
                sourceLocation: sourceLocation)
        #expect(m.controllerReference?.uid == "u-rs", sourceLocation: sourceLocation)
        #expect(m.finalizers == ["a/b", "c"], sourceLocation: sourceLocation)
        #expect(m.creationTimestamp == "2024-05-01T10:00:00Z", sourceLocation: sourceLocation)
        #expect(m.deletionTimestamp == "2024-05-02T10:00:00Z", sourceLocation: sourceLocation)
    }

    static let managedFields = #""managedFields":[{"manager":"m","fieldsV1":{"f:metadata":{"f:labels":{}}}}]"#

    /// A metadata with every field, and `managedFields` members between them (each cut moves
    /// the fields after it).
    static let fullMetadata = [
        managedFields, #""annotations":{"note":"a\"b","k":""}"#, #""creationTimestamp":"2024-05-01T10:00:00Z""#,
        managedFields, #""deletionTimestamp":"2024-05-02T10:00:00Z""#, #""finalizers":["a\/b","c"]"#,
        #""labels":{"app":"web","tier":"caf\u00e9"}"#, managedFields, #""name":"n""#, #""namespace":"ns""#,
        #""ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u-rs","controller":true}]"#,
        #""resourceVersion":"41""#, managedFields, #""uid":"0a1b2c3d-0000-4000-8000-00000000000f""#,
    ].joined(separator: ",")

    static let object = #"{"apiVersion":"v1","kind":"Pod","metadata":{\#(fullMetadata)},"spec":{}}"#

    @Test func everyFieldAfterCutsInAnObjectAListAndAWatchEvent() throws {
        for cut in [false, true] {
            let o = try KubeObject(json: "  " + Self.object, cutManagedFields: cut)
            #expect(o.text.contains("managedFields") == !cut)
            Self.expectFull(o.metadata)
            let list = #"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"first"}}, \#(Self.object) ,\#(Self.object)]}"#
            let items = try KubeObjectList.decode(bytes: bytes(list), cutManagedFields: cut).items
            #expect(items.count == 3)
            #expect(items[0].metadata.uid == "" && items[0].metadata.labels.isEmpty && items[0].metadata.creationTimestamp == nil)
            Self.expectFull(items[1].metadata)
            Self.expectFull(items[2].metadata)
            let line = #"{"type":"MODIFIED","object":\#(Self.object)}"#
            guard case .modified(let event) = try WatchEvent.decode(line: bytes(line), cutManagedFields: cut) else {
                Issue.record("not a MODIFIED event"); continue
            }
            Self.expectFull(event.metadata)
            // Equal metadata read from differently laid out bytes are equal.
            #expect(event.metadata == o.metadata)
            #expect(event.metadata.hashValue == o.metadata.hashValue)
        }
    }

    /// The controller's UID read alone is the one the full owner references give.
    @Test(arguments: [
        (#"{"metadata":{}}"#, String?.none),
        (#"{"metadata":{"ownerReferences":null}}"#, nil),
        (#"{"metadata":{"ownerReferences":[]}}"#, nil),
        (#"{"metadata":{"ownerReferences":[{"uid":"a","controller":false},{"uid":"b"},{"controller":true,"uid":"c"},{"uid":"d","controller":true}]}}"#, "c"),
        (#"{"metadata":{"ownerReferences":[{"uid":"a","controller":true,"controller":false},{"uid":"x","uid":"y","controller":true}]}}"#, "y"),
        (#"{"metadata":{"ownerReferences":[{"controller":true}]}}"#, ""),
        (#"{"metadata":{"ownerReferences":[{"uid":null,"controller":null},{"uid":null,"controller":true}]}}"#, ""),
        (#"{"metadata":{"ownerReferences":[{"\u0075id":"caf\u00e9","c\u006fntroller":true}]}}"#, "caf\u{e9}"),
    ])
    func theControllersUIDIsReadAlone(text: String, expected: String?) throws {
        let m = try KubeObject(json: text).metadata
        #expect(m.controllerUID == expected)
        #expect(m.controllerUID == m.controllerReference?.uid)
    }

    @Test func keysWithEscapesAreReadToo() throws {
        let text = #"{"metadata":{"\u0075id":"u","l\u0061bels":{"a":"b"},"creationTimest\u0061mp":null,"own\u0065rReferences":null}}"#
        let m = try KubeObject(json: text).metadata
        #expect(m.uid == "u")
        #expect(m.labels == ["a": "b"])
        #expect(m.creationTimestamp == nil)
        #expect(m.ownerReferences.isEmpty)
    }

    @Test func aDifferingFieldMakesTheMetadataDiffer() throws {
        let a = try KubeObject(json: #"{"metadata":{"name":"n","labels":{"a":"1"}}}"#).metadata
        let b = try KubeObject(json: #"{"metadata":{"name":"n","labels":{"a":"2"}}}"#).metadata
        let c = try KubeObject(json: #"{"metadata":{"labels":{"a":"1"},"name":"n"}}"#).metadata
        #expect(a != b)
        #expect(a == c)
    }

    /// What is read on demand is checked when the object is decoded: invalid UTF-8 in it is an
    /// error at the string's opening quote.
    @Test(arguments: [
        (#"{"metadata":{"uid":""#, #""}}"#),
        (#"{"metadata":{"labels":{"a":""#, #""}}}"#),
        (#"{"metadata":{"annotations":{""#, #"":"v"}}}"#),
        (#"{"metadata":{"finalizers":[""#, #""]}}"#),
        (#"{"metadata":{"ownerReferences":[{"name":""#, #""}]}}"#),
        (#"{"metadata":{"creationTimestamp":""#, #""}}"#),
        (#"{"metadata":{"deletionTimestamp":""#, #""}}"#),
    ])
    func invalidUTF8InAFieldReadOnDemandIsAnError(before: String, after: String) throws {
        #expect(throws: Never.self) { try KubeObject(bytes: bytes(before + "caf\u{e9}" + after)) }
        #expect(throws: ObjectDecodingError(offset: before.utf8.count - 1, reason: "invalid UTF-8 in string")) {
            try KubeObject(bytes: bytes(before) + [0xC3, 0x28] + bytes(after))
        }
    }

    @Test func wrongTypesInFieldsReadOnDemandAreErrorsWithTheirOffset() {
        #expect(throws: ObjectDecodingError(offset: 19, reason: "invalid character '7', expected string")) {
            try KubeObject(json: #"{"metadata":{"uid":7}}"#)
        }
        #expect(throws: ObjectDecodingError(offset: 27, reason: "invalid character '1', expected string")) {
            try KubeObject(json: #"{"metadata":{"finalizers":[1]}}"#)
        }
        #expect(throws: ObjectDecodingError(offset: 40, reason: "invalid character '1', expected string")) {
            try KubeObject(json: #"{"metadata":{"ownerReferences":[{"kind":1}]}}"#)
        }
        #expect(throws: ObjectDecodingError(offset: 46, reason: "invalid character '\"', expected boolean")) {
            try KubeObject(json: #"{"metadata":{"ownerReferences":[{"controller":"yes"}]}}"#)
        }
    }
}

@Suite struct ManagedFieldsCutTests {
    /// The object with `managedFields` inserted at member `position` of a metadata that has `others`.
    static func object(position: Int, others: [String], separator: String = ",") -> (text: String, expected: String) {
        var members = others
        members.insert("\"managedFields\":" + managedFields, at: position)
        let text = "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{" + members.joined(separator: separator) + "},\"data\":{\"managedFields\":\"not this one\"}}"
        let expected = "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{" + others.joined(separator: separator) + "},\"data\":{\"managedFields\":\"not this one\"}}"
        return (text, expected)
    }

    @Test(arguments: [0, 1, 2, 3])
    func cutInEveryPosition(position: Int) throws {
        let others = [#""name":"a""#, #""namespace":"default""#, #""labels":{"x":"y"}"#]
        let (text, expected) = Self.object(position: position, others: others)
        let o = try KubeObject(json: text, cutManagedFields: true)
        #expect(o.text == expected)  // byte-identical apart from the member
        #expect(try o.json == withoutManagedFields(try JSON.parse(text)))
        #expect(o.metadata.name == "a")
        #expect(o.metadata.labels == ["x": "y"])
        // Not cutting keeps everything.
        #expect(try KubeObject(json: text).text == text)
    }

    @Test func onlyMember() throws {
        let text = #"{"metadata":{ "managedFields" : [] },"kind":"X"}"#
        let o = try KubeObject(json: text, cutManagedFields: true)
        #expect(o.text == #"{"metadata":{  },"kind":"X"}"#)
        #expect(try o.json == withoutManagedFields(try JSON.parse(text)))
    }

    @Test(arguments: [0, 1, 2])
    func prettyPrinted(position: Int) throws {
        let others = ["\"name\": \"a\"", "\"uid\": \"u\""]
        let (text, _) = Self.object(position: position, others: others, separator: " ,\n    ")
        let o = try KubeObject(json: text, cutManagedFields: true)
        #expect(try o.json == withoutManagedFields(try JSON.parse(text)))
        #expect(!o.text.contains("kubectl"))
        #expect(o.metadata.uid == "u")
    }

    @Test func twoManagedFieldsMembers() throws {
        // Duplicate keys (last wins in Go): both go, wherever they are.
        for text in [
            #"{"metadata":{"managedFields":[1],"managedFields":[2],"name":"a"}}"#,
            #"{"metadata":{"name":"a","managedFields":[1],"managedFields":[2]}}"#,
            #"{"metadata":{"managedFields":[1],"name":"a","managedFields":[2]}}"#,
            #"{"metadata":{"managedFields":[1],"managedFields":[2]}}"#,
        ] {
            let o = try KubeObject(json: text, cutManagedFields: true)
            #expect(!o.text.contains("managedFields"), "\(o.text)")
            #expect(try o.json == withoutManagedFields(try JSON.parse(text)))
        }
    }

    @Test func noManagedFieldsSharesTheInput() throws {
        let input = bytes(#"{"metadata":{"name":"a"}}"#)
        let o = try KubeObject(bytes: input, cutManagedFields: true)
        #expect(o.bytes == input)
        #expect(o.bytes.withUnsafeBufferPointer { $0.baseAddress } == input.withUnsafeBufferPointer { $0.baseAddress })
    }
}

@Suite struct ListTests {
    static func configMapList(count: Int, pretty: Bool = false) -> String {
        let items = (0..<count).map { i in
            #"{"metadata":{"name":"cm-\#(i)","namespace":"default","uid":"uid-\#(i)","resourceVersion":"\#(100 + i)","creationTimestamp":"2024-05-01T10:00:00Z","labels":{"shard":"\#(i % 3)"},"managedFields":\#(managedFields)},"data":{"index":"\#(i)","payload":"x\"y"}}"#
        }
        let sep = pretty ? ",\n    " : ","
        return #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"12345","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNDV9","remainingItemCount":42},"items":["# + items.joined(separator: sep) + "]}"
    }

    @Test(arguments: [false, true])
    func configMapList(cut: Bool) throws {
        let text = Self.configMapList(count: 5, pretty: true)
        let list = try KubeObjectList.decode(bytes: bytes(text), cutManagedFields: cut)
        #expect(list.kind == "ConfigMapList")
        #expect(list.apiVersion == "v1")
        #expect(list.itemKind == "ConfigMap")
        #expect(list.resourceVersion == "12345")
        #expect(list.continueToken == "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNDV9")
        #expect(list.remainingItemCount == 42)
        #expect(list.items.count == 5)
        let tree = try JSON.parse(text)
        for (i, item) in list.items.enumerated() {
            #expect(item.kind == "ConfigMap")
            #expect(item.apiVersion == "v1")
            #expect(item.metadata.name == "cm-\(i)")
            #expect(item.metadata.resourceVersion == "\(100 + i)")
            #expect(item.bytes.first == UInt8(ascii: "{") && item.bytes.last == UInt8(ascii: "}"))
            #expect(!item.text.contains("\"kind\""))  // bytes not rewritten
            let expected = tree["items"]!.arrayValue![i]
            #expect(try item.json == (cut ? withoutManagedFields(expected) : expected))
            #expect(item.text.contains("managedFields") == !cut)
        }
    }

    @Test func emptyAndNullLists() throws {
        let a = try KubeObjectList.decode(bytes: bytes(#"{"apiVersion":"v1","items":[],"kind":"PodList","metadata":{"resourceVersion":"7"}}"#))
        #expect(a.items.isEmpty && a.itemKind == "Pod" && a.resourceVersion == "7" && a.continueToken == nil && a.remainingItemCount == nil)
        let b = try KubeObjectList.decode(bytes: bytes(#"{"items":null,"metadata":{"continue":""},"kind":"PodList"}"#))
        #expect(b.items.isEmpty && b.continueToken == nil)
        #expect(throws: ObjectDecodingError.self) { try KubeObjectList.decode(bytes: bytes(#"{"kind":"PodList"}"#)) }
        #expect(throws: ObjectDecodingError.self) { try KubeObjectList.decode(bytes: bytes(#"{"items":[1]}"#)) }
    }

    @Test func kindAfterItems() throws {
        let list = try KubeObjectList.decode(bytes: bytes(#"{"items":[{"metadata":{"name":"a"}},{"kind":"Other","apiVersion":"x/v1","metadata":{"name":"b"}}],"apiVersion":"apps/v1","kind":"DeploymentList"}"#))
        #expect(list.items.map(\.kind) == ["Deployment", "Other"])
        #expect(list.items.map(\.apiVersion) == ["apps/v1", "x/v1"])
    }
}

@Suite struct WatchTests {
    static let added = #"{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"default","resourceVersion":"10","managedFields":[{"manager":"m"}]},"data":{"k":"line1\nline2"}}}"#
    static let modified = #"{"object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","namespace":"default","resourceVersion":"11"},"data":{"k":"v2"}},"type":"MODIFIED"}"#
    static let stream = bytes(added + "\n" + modified + "\n")

    static func check(_ events: [WatchEvent]) {
        #expect(events.count == 2)
        guard events.count == 2 else { return }
        #expect(events[0].type == .added)
        #expect(events[0].object?.metadata.resourceVersion == "10")
        #expect(events[0].object?.text.contains("managedFields") == false)
        #expect(events[1].type == .modified)
        #expect(events[1].object?.metadata.resourceVersion == "11")
        #expect(events[1].object?.kind == "ConfigMap")
    }

    @Test func everySplitPosition() throws {
        for split in 0...Self.stream.count {
            var decoder = WatchLineDecoder(cutManagedFields: true)
            var events = try decoder.feed(Self.stream[..<split])
            #expect(decoder.partialLine.count <= max(Self.added.utf8.count, Self.modified.utf8.count))
            events += try decoder.feed(Self.stream[split...])
            #expect(decoder.partialLine.isEmpty)
            #expect(try decoder.finish() == nil)
            Self.check(events)
        }
    }

    @Test func everyPairOfSplitPositions() throws {
        let s = Self.stream
        for a in stride(from: 0, through: s.count, by: 7) {
            for b in a...s.count {
                var decoder = WatchLineDecoder(cutManagedFields: true)
                var events = try decoder.feed(s[..<a])
                events += try decoder.feed(Array(s[a..<b]))
                events += try decoder.feed(s[b...])
                Self.check(events)
            }
        }
    }

    @Test func byteAtATimeBuffersOnlyThePartialLine() throws {
        var decoder = WatchLineDecoder(cutManagedFields: true)
        var events: [WatchEvent] = []
        var sinceNewline = 0
        for byte in Self.stream {
            events += try decoder.feed([byte])
            sinceNewline = byte == 0x0A ? 0 : sinceNewline + 1
            #expect(decoder.partialLine.count == sinceNewline)
        }
        Self.check(events)
        #expect(decoder.streamOffset == Self.stream.count)
    }

    @Test func lastLineWithoutNewlineAndBlankLines() throws {
        var decoder = WatchLineDecoder(cutManagedFields: true)
        var events = try decoder.feed(bytes("\r\n\n" + Self.added + "\r\n  \n" + Self.modified))
        #expect(events.count == 1)
        if let last = try decoder.finish() { events.append(last) }
        Self.check(events)
    }

    @Test func error410() throws {
        var decoder = WatchLineDecoder()
        let line = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 100 (2500)","reason":"Expired","code":410}}"#
        let events = try decoder.feed(bytes(line + "\n"))
        #expect(events == [.error(WatchErrorStatus(code: 410, reason: "Expired", message: "too old resource version: 100 (2500)", status: "Failure"))])
        #expect(events.first?.object == nil)
        // Object before type works too.
        let swapped = #"{"object":{"code":410,"reason":"Gone"},"type":"ERROR"}"#
        #expect(try WatchEvent.decode(line: bytes(swapped)) == .error(WatchErrorStatus(code: 410, reason: "Gone")))
    }

    @Test func bookmark() throws {
        let e = try WatchEvent.decode(line: bytes(#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"5000","annotations":{"k8s.io/initial-events-end":"true"}}}}"#))
        #expect(e.type == .bookmark)
        #expect(e.object?.metadata.resourceVersion == "5000")
        #expect(e.object?.metadata.annotations["k8s.io/initial-events-end"] == "true")
    }

    @Test func invalidLineReportsOffsetAndLine() throws {
        var decoder = WatchLineDecoder()
        let good = Self.added + "\n"
        let bad = #"{"type":"ADDED","object":{"metadata":{"name":"x"}}"# + "\n"  // missing closing brace
        do {
            _ = try decoder.feed(bytes(good + bad + good))
            Issue.record("no error")
        } catch {
            #expect(error.line == 2)
            #expect(error.offset == good.utf8.count + bad.utf8.count - 1)  // the newline-terminated end of the line
            #expect(error.reason.contains("end of input"))
            #expect(error.eventsBeforeError.count == 1)
        }
        // The stream stays broken.
        #expect(throws: WatchDecodingError.self) { try decoder.feed(bytes(good)) }

        for (line, reason) in [
            (#"{"type":"EXPLODED","object":{}}"#, "unknown watch event type"),
            (#"{"object":{}}"#, "no type"),
            (#"{"type":"ADDED"}"#, "no object"),
            (#"{"type":"ADDED","object":{}} x"#, "after top-level value"),
            (#"not json"#, "expected object"),
        ] {
            var d = WatchLineDecoder()
            _ = try d.feed(bytes(good))
            do {
                _ = try d.feed(bytes(line + "\n"))
                Issue.record("no error for \(line)")
            } catch {
                #expect(error.reason.contains(reason), "\(error)")
                #expect(error.line == 2)
                #expect(error.offset >= good.utf8.count && error.offset <= good.utf8.count + line.utf8.count)
            }
        }
    }

    @Test func lineTooLong() {
        var decoder = WatchLineDecoder(maxLineLength: 100)
        #expect(throws: WatchDecodingError.self) {
            for _ in 0..<20 { _ = try decoder.feed([UInt8](repeating: 0x20, count: 10)) }
        }
    }
}

@Suite struct MalformedInputTests {
    @Test func everyTruncationIsAnError() throws {
        let text = bytes(pod.trimmingSuffixWhitespace)
        for n in 0..<text.count {
            #expect(throws: ObjectDecodingError.self) { try KubeObject(bytes: Array(text[..<n]), cutManagedFields: true) }
        }
        let list = bytes(ListTests.configMapList(count: 2))
        for n in 0..<list.count {
            do {
                _ = try KubeObjectList.decode(bytes: Array(list[..<n]), cutManagedFields: true)
                Issue.record("prefix \(n) accepted")
            } catch {
                #expect(error.offset <= n)
            }
        }
    }

    @Test func truncationOffset() {
        do {
            _ = try KubeObject(json: #"{"metadata":{"name":"ab"#)
            Issue.record("accepted")
        } catch {
            #expect(error.offset == 23)
            #expect(error.reason.contains("end of input"))
        }
    }

    @Test(arguments: [
        "", " ", "{", "}", "{]", "[}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":1 "b":2}"#, #"{"a":[1,]}"#, #"{"a":[1 2]}"#,
        #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":1e}"#, #"{"a":-}"#, #"{"a":+1}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":True}"#,
        #"{"a":"\x"}"#, #"{"a":"\u12G4"}"#, "{\"a\":\"tab\there\"}", #"{"a":"unterminated}"#, #"{"a":1}}"#, #"{"a":1} {"#,
        #"{"a":[{"b":{]}]}"#, #"{a:1}"#, #"{"a":'x'}"#, #"{"metadata":[]}"#, #"{"metadata":{"labels":{"a":"b",}}}"#,
    ])
    func malformed(text: String) {
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: text) }
    }

    /// Every one-byte change of a valid object: the scanner never crashes, and
    /// it accepts nothing that the tree parser rejects.
    @Test func mutationsAgreeWithTheTreeParser() throws {
        let text = bytes(#"{"apiVersion":"v1","kind":"X","metadata":{"name":"a\"b","managedFields":[{"m":1}],"labels":{"k":"v"}},"spec":{"n":[1,-2.5e3,true,false,null,{"x":"\u00e9"}]}}"#)
        let replacements: [UInt8] = Array(#"{}[]",:0-.e"\ nt"#.utf8) + [0x00, 0x0A]
        for i in text.indices {
            for r in replacements {
                var mutated = text
                mutated[i] = r
                for cut in [false, true] {
                    if let o = try? KubeObject(bytes: mutated, cutManagedFields: cut) {
                        #expect((try? JSON.parse(mutated)) != nil, "accepted \(String(decoding: mutated, as: UTF8.self))")
                        #expect((try? o.json) != nil)
                    }
                }
            }
            var deleted = text
            deleted.remove(at: i)
            if (try? KubeObject(bytes: deleted)) != nil {
                #expect((try? JSON.parse(deleted)) != nil, "accepted \(String(decoding: deleted, as: UTF8.self))")
            }
        }
    }

    @Test func depthBound() throws {
        // Far deeper than the bound: an error, not a stack overflow.
        let deep = bytes(#"{"metadata":{},"spec":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}")
        do {
            _ = try KubeObject(bytes: deep)
            Issue.record("accepted")
        } catch {
            #expect(error.reason.contains("nesting deeper than 1000"))
        }
        let objects = String(repeating: #"{"a":"#, count: 5000) + "1" + String(repeating: "}", count: 5000)
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: objects) }
        // Deep nesting inside metadata values too.
        #expect(throws: ObjectDecodingError.self) {
            try KubeObject(json: #"{"metadata":{"x":"# + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}}")
        }
        // Exactly at the bound is fine, one more is not (the top-level object is level 1, spec's arrays add the rest).
        let ok = #"{"spec":"# + String(repeating: "[", count: 999) + String(repeating: "]", count: 999) + "}"
        #expect(try KubeObject(json: ok).kind == "")
        #expect(try JSON.parse(ok) != .null)
        let over = #"{"spec":"# + String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000) + "}"
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: over) }
        // Past 64 levels the scanner still matches brackets.
        let mismatched = #"{"spec":"# + String(repeating: "[", count: 70) + "}" + String(repeating: "]", count: 69) + "}"
        #expect(throws: ObjectDecodingError.self) { try KubeObject(json: mismatched) }
        let mixed = #"{"spec":"# + String(repeating: #"[{"a":"#, count: 100) + "1" + String(repeating: "}]", count: 100) + "}"
        #expect(try KubeObject(json: mixed).json == JSON.parse(mixed))
    }

    @Test func scannerSkipsEverySortOfValue() throws {
        let doc = bytes(#"  {"a" : [ 1 , -0.5E+10 , "s\"\\\/\b\f\n\r\t\u0041" , true , false , null , { } , [ ] , {"b":[[[]]]} ] }  "#)
        let end = try JSONScanner.withScanner(over: doc) { s throws(ObjectDecodingError) in try s.skipValue(at: 0, depth: 0) }
        #expect(end == doc.count - 2)
        let limited = try? JSONScanner.withScanner(over: doc, maxDepth: 5) { s throws(ObjectDecodingError) in try s.skipValue(at: 0, depth: 0) }
        #expect(limited == nil)
        #expect(try JSONScanner.withScanner(over: doc, maxDepth: 6) { s throws(ObjectDecodingError) in try s.skipValue(at: 0, depth: 0) } == end)
    }
}

extension String {
    fileprivate var trimmingSuffixWhitespace: String {
        var s = self
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}

/// Reading a LIST page's continue token ahead of decoding its items.
@Suite struct NextPageTests {
    static func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func tokenBeforeItemsIsReadAhead() throws {
        let body = Self.body(#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"abc\u0041"},"items":[{"metadata":{"name":"a"}}]}"#)
        #expect(KubeObjectList.nextPage(of: body) == .next(continueToken: "abcA"))
        // The full decode agrees.
        #expect(try KubeObjectList.decode(bytes: body).continueToken == "abcA")
    }

    @Test(arguments: [
        #"{"kind":"ConfigMapList","metadata":{"resourceVersion":"9"},"items":[]}"#,
        #"{"kind":"ConfigMapList","metadata":{"resourceVersion":"9","continue":""},"items":[]}"#,
        #"{ "metadata" : { } , "items" : [ ] }"#,
    ])
    func noTokenIsTheLastPage(text: String) throws {
        #expect(KubeObjectList.nextPage(of: Self.body(text)) == .none)
        #expect(try KubeObjectList.decode(bytes: Self.body(text)).continueToken == nil)
    }

    @Test(arguments: [
        // Items first: only a full decode finds the token.
        #"{"apiVersion":"v1","items":[],"kind":"ConfigMapList","metadata":{"continue":"x"}}"#,
        // Not a list, or not JSON.
        #"[1,2]"#,
        #"{"metadata":{"continue":"x""#,
        #"{"kind":"#,
        "",
    ])
    func otherwiseOnlyTheDecodeTells(text: String) {
        #expect(KubeObjectList.nextPage(of: Self.body(text)) == .unknown)
    }
}

/// Skipping strings eight bytes at a time: wherever a quote, a backslash or a control character falls
/// relative to the eight-byte steps, the result is what a byte-by-byte reading gives.
@Suite struct StringSkipTests {
    /// `"` + prefix plain bytes + `special` + filler + `"`, scanned from the opening quote.
    static func skip(_ bytes: [UInt8]) -> Result<Int, ObjectDecodingError> {
        bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(ObjectDecodingError) -> Int in try JSONScanner(buffer).skipString(at: 0).end }
        }
    }

    @Test func everyPositionOfEveryKindOfByte() {
        let plain = Array("abcdefghijklmnopqrstuvwxyz0123456789ÄÖü€".utf8)  // non-ASCII bytes are plain content
        for length in 0..<40 {
            let content = (0..<length).map { plain[$0 % plain.count] }
            // No special byte: the string ends at its closing quote.
            let whole = [0x22] + content + [0x22] + Array(#","x":1"#.utf8)
            #expect(Self.skip(whole) == .success(length + 2), "plain string of \(length) bytes")
            // Unterminated: an error at the end of the input.
            if case .success = Self.skip([0x22] + content) { Issue.record("unterminated string of \(length) bytes was accepted") }
            for position in 0...length {
                let head = [0x22] + content[..<position]
                let tail = Array(content[position...]) + [0x22, 0x7D]
                // A quote ends the string there.
                #expect(Self.skip(head + [0x22] + tail) == .success(position + 2), "quote at \(position) of \(length)")
                // An escaped quote does not.
                #expect(Self.skip(head + [0x5C, 0x22] + tail) == .success(length + 4), "escaped quote at \(position) of \(length)")
                // A control character is an error at its offset.
                switch Self.skip(head + [0x0A] + tail) {
                case .success: Issue.record("newline at \(position) of \(length) was accepted")
                case .failure(let error): #expect(error.offset == position + 1, "newline at \(position) of \(length)")
                }
                // 0x7F and 0x20 are plain content.
                #expect(Self.skip(head + [0x7F, 0x20] + tail) == .success(length + 4), "DEL and space at \(position) of \(length)")
            }
        }
    }
}
