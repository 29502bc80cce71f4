import KubeCore

/// The discovery documents: `/api`, `/apis`, `/apis/GROUP` and the resource lists.
enum Discovery {
    static func coreVersions(serverAddress: String) -> JSON {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    /// The named groups in the order kubectl expects: built-in groups first, then CRD groups by name.
    static func groups(_ resources: [ResourceInfo]) -> [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        let builtinOrder = ["apps", "events.k8s.io", "batch", "coordination.k8s.io", "apiextensions.k8s.io"]
        let named = resources.filter { !$0.group.isEmpty }
        let sorted = named.sorted { a, b in
            let ia = builtinOrder.firstIndex(of: a.group) ?? Int.max
            let ib = builtinOrder.firstIndex(of: b.group) ?? Int.max
            return ia != ib ? ia < ib : a.group < b.group
        }
        for info in sorted {
            if versions[info.group] == nil { order.append(info.group) }
            for v in info.versions where !(versions[info.group] ?? []).contains(v) {
                versions[info.group, default: []].append(v)
            }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    static func groupJSON(_ name: String, versions: [String]) -> JSON {
        let list: [JSON] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["name": .string(name), "versions": .array(list), "preferredVersion": list.first ?? .null]
    }

    static func groupList(_ resources: [ResourceInfo]) -> JSON {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups(resources).map { groupJSON($0.name, versions: $0.versions) })]
    }

    static func group(_ name: String, resources: [ResourceInfo]) -> JSON? {
        guard let found = groups(resources).first(where: { $0.name == name }) else { return nil }
        var json = groupJSON(found.name, versions: found.versions)
        json["kind"] = "APIGroup"
        json["apiVersion"] = "v1"
        return json
    }

    /// The `APIResourceList` of one group version, subresources included.
    static func resourceList(group: String, version: String, resources: [ResourceInfo]) -> JSON? {
        let served = resources.filter { $0.group == group && $0.versions.contains(version) }
        guard !served.isEmpty else { return nil }
        var list: [JSON] = []
        for info in served.sorted(by: { $0.resource < $1.resource }) {
            var entry: JSON = [
                "name": .string(info.resource), "singularName": .string(info.singular), "namespaced": .bool(info.namespaced),
                "kind": .string(info.kind), "verbs": .array(ResourceInfo.standardVerbs.map { .string($0) }),
                "storageVersionHash": .string(storageVersionHash(info)),
            ]
            if !info.shortNames.isEmpty { entry["shortNames"] = .array(info.shortNames.map { .string($0) }) }
            if !info.categories.isEmpty { entry["categories"] = .array(info.categories.map { .string($0) }) }
            list.append(entry)
            if info.hasStatus {
                list.append(["name": .string(info.resource + "/status"), "singularName": "", "namespaced": .bool(info.namespaced),
                             "kind": .string(info.kind), "verbs": ["get", "patch", "update"]])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(list)]
    }

    /// A stable short hash of group, storage version and kind (clients only compare it for equality).
    static func storageVersionHash(_ info: ResourceInfo) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(info.group)/\(info.storageVersion)/\(info.kind)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Base64.encode(withUnsafeBytes(of: hash.bigEndian) { Array($0) }).prefix(11).description
    }
}
