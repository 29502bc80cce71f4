import KubeCore

/// The OpenAPI v3 documents kubectl reads. kubectl looks for the PATCH operation
/// of a kind and its `fieldValidation` parameter to decide that the server
/// validates fields itself; the documents describe exactly that, plus each
/// custom resource's schema.
enum OpenAPI {
    static func index(_ resources: [ResourceInfo]) -> JSON {
        var paths: [String: JSON] = [:]
        for gv in groupVersions(resources) {
            let key = gv.group.isEmpty ? "api/\(gv.version)" : "apis/\(gv.group)/\(gv.version)"
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash(document(group: gv.group, version: gv.version, resources: resources)))")]
        }
        return ["paths": .object(paths)]
    }

    static func groupVersions(_ resources: [ResourceInfo]) -> [(group: String, version: String)] {
        var seen = Set<String>()
        var result: [(String, String)] = []
        for info in resources {
            for version in info.versions where seen.insert("\(info.group)/\(version)").inserted {
                result.append((info.group, version))
            }
        }
        return result
    }

    /// The document for `api/v1` or `apis/GROUP/VERSION`, or nil when not served.
    static func document(path: String, resources: [ResourceInfo]) -> JSON? {
        let parts = path.split(separator: "/").map(String.init)
        if parts.count == 2 && parts[0] == "api" { return document(group: "", version: parts[1], resources: resources) }
        if parts.count == 3 && parts[0] == "apis" { return document(group: parts[1], version: parts[2], resources: resources) }
        return nil
    }

    static func document(group: String, version: String, resources: [ResourceInfo]) -> JSON? {
        let served = resources.filter { $0.group == group && $0.versions.contains(version) }
        guard !served.isEmpty else { return nil }
        let prefix = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        var paths: [String: JSON] = [:]
        var schemas: [String: JSON] = [:]
        for info in served.sorted(by: { $0.resource < $1.resource }) {
            let gvk: JSON = ["group": .string(group), "version": .string(version), "kind": .string(info.kind)]
            let schemaName = schemaName(info, version: version)
            let ref: JSON = ["$ref": .string("#/components/schemas/\(schemaName)")]
            let body: JSON = ["content": ["application/json": ["schema": ref]]]
            let ok: JSON = ["200": ["description": "OK", "content": ["application/json": ["schema": ref]]]]
            let params: JSON = [
                ["name": "dryRun", "in": "query", "schema": ["type": "string"], "uniqueItems": true],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string"], "uniqueItems": true],
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string"], "uniqueItems": true],
                ["name": "force", "in": "query", "schema": ["type": "boolean"], "uniqueItems": true],
            ]
            let base = info.namespaced ? "\(prefix)/namespaces/{namespace}/\(info.resource)" : "\(prefix)/\(info.resource)"
            func operation(_ id: String, _ action: String) -> JSON {
                ["operationId": .string(id), "x-kubernetes-action": .string(action), "x-kubernetes-group-version-kind": gvk,
                 "parameters": params, "requestBody": body, "responses": ok]
            }
            paths["\(base)/{name}"] = [
                "get": operation("read\(info.kind)", "get"), "put": operation("replace\(info.kind)", "put"),
                "patch": operation("patch\(info.kind)", "patch"), "delete": operation("delete\(info.kind)", "delete"),
            ]
            paths[base] = ["get": operation("list\(info.kind)", "list"), "post": operation("create\(info.kind)", "post")]
            if info.hasStatus {
                paths["\(base)/{name}/status"] = ["get": operation("read\(info.kind)Status", "get"), "patch": operation("patch\(info.kind)Status", "patch"),
                                                  "put": operation("replace\(info.kind)Status", "put")]
            }
            var schema = info.openAPISchemas[version] ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema["x-kubernetes-group-version-kind"] = [gvk]
            schemas[schemaName] = schema
        }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.37.0-plugboard-dev"],
                "paths": .object(paths), "components": ["schemas": .object(schemas)]]
    }

    static func schemaName(_ info: ResourceInfo, version: String) -> String {
        if info.group.isEmpty { return "io.k8s.api.core.\(version).\(info.kind)" }
        let reversed = info.group.split(separator: ".").reversed().joined(separator: ".")
        return "\(reversed).\(version).\(info.kind)"
    }

    static func hash(_ document: JSON?) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (document ?? .null).serialized() { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16, uppercase: true)
    }
}
