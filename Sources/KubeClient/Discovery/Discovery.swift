import Foundation
import Synchronization

/// One served resource, as discovery describes it.
public struct ResourceMapping: Sendable, Hashable {
    public var resource: GroupVersionResource
    public var kind: String
    public var namespaced: Bool
    public var verbs: [String]
    public var shortNames: [String]
    /// Subresources served for it (`status`, `scale`, …).
    public var subresources: [String]
    /// Whether `resource.version` is the group's preferred version.
    public var preferred: Bool
}

/// Why a kind or resource could not be mapped.
public struct DiscoveryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Discovery and the kind ↔ resource mapping, cached. A lookup that misses
/// refreshes the cache once (a CRD installed after start), then fails with an
/// error that says what is served.
public final class Discovery: Sendable {
    let transport: Transport
    private let cache = Mutex<[ResourceMapping]?>(nil)

    public init(transport: Transport) {
        self.transport = transport
    }

    /// Every served resource of every served version.
    public func all() async throws -> [ResourceMapping] {
        if let cached = cache.withLock({ $0 }) { return cached }
        return try await refresh()
    }

    /// Reads discovery again.
    @discardableResult
    public func refresh() async throws -> [ResourceMapping] {
        let decoder = JSONDecoder()
        var mappings: [ResourceMapping] = []
        let core = try decoder.decode(APIVersions.self, from: Data(try await transport.send(APIRequest(method: .GET, path: "/api")).body))
        for version in core.versions {
            mappings += try await resources(group: "", version: version, preferred: version == core.versions.first, decoder: decoder)
        }
        let groups = try decoder.decode(APIGroupList.self, from: Data(try await transport.send(APIRequest(method: .GET, path: "/apis")).body))
        for group in groups.groups {
            let preferred = group.preferredVersion?.version ?? group.versions.first?.version
            for version in group.versions {
                mappings += try await resources(group: group.name, version: version.version, preferred: version.version == preferred, decoder: decoder)
            }
        }
        cache.withLock { $0 = mappings }
        return mappings
    }

    private func resources(group: String, version: String, preferred: Bool, decoder: JSONDecoder) async throws -> [ResourceMapping] {
        let path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        let list: APIResourceList
        do {
            list = try decoder.decode(APIResourceList.self, from: Data(try await transport.send(APIRequest(method: .GET, path: path)).body))
        } catch let error as KubeAPIError where error.isNotFound {
            return []  // the group version went away between the two reads
        }
        var subresources: [String: [String]] = [:]
        for resource in list.resources where resource.name.contains("/") {
            let parts = resource.name.split(separator: "/", maxSplits: 1).map(String.init)
            subresources[parts[0], default: []].append(parts[1])
        }
        return list.resources.filter { !$0.name.contains("/") }.map { resource in
            ResourceMapping(resource: GroupVersionResource(group: group, version: version, resource: resource.name), kind: resource.kind,
                            namespaced: resource.namespaced, verbs: resource.verbs, shortNames: resource.shortNames ?? [],
                            subresources: subresources[resource.name] ?? [], preferred: preferred)
        }
    }

    /// The resource for `apiVersion` + `kind` (`apps/v1`, `Deployment`).
    public func mapping(apiVersion: String, kind: String) async throws -> ResourceMapping {
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", apiVersion)
        return try await lookup("kind \(kind) in \(apiVersion)") {
            $0.resource.group == group && $0.resource.version == version && $0.kind == kind
        }
    }

    /// The resource for a group, version and plural, short or singular name.
    public func mapping(group: String, version: String?, resource: String) async throws -> ResourceMapping {
        let what = "resource \(resource)\(group.isEmpty ? "" : ".\(group)")\(version.map { " in version \($0)" } ?? "")"
        return try await lookup(what) { mapping in
            mapping.resource.group == group && (version.map { mapping.resource.version == $0 } ?? mapping.preferred)
                && (mapping.resource.resource == resource || mapping.shortNames.contains(resource) || mapping.kind.lowercased() == resource.lowercased())
        }
    }

    private func lookup(_ what: String, _ matches: (ResourceMapping) -> Bool) async throws -> ResourceMapping {
        if let found = try await all().first(where: matches) { return found }
        if let found = try await refresh().first(where: matches) { return found }
        throw DiscoveryError(message: "the server does not serve \(what)")
    }
}
