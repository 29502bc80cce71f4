import KubeClient
import PluginConfig

/// A resource of the config, mapped through discovery.
public struct ResolvedResource: Sendable, Hashable, CustomStringConvertible {
    public var mapping: ResourceMapping

    public init(_ mapping: ResourceMapping) { self.mapping = mapping }

    public var gvr: GroupVersionResource { mapping.resource }
    public var kind: String { mapping.kind }
    public var apiVersion: String { mapping.resource.groupVersion }
    public var namespaced: Bool { mapping.namespaced }
    /// The key of this kind in a request's `children` and `related`: `Deployment.apps/v1`.
    public var typeKey: String { "\(kind).\(apiVersion)" }

    /// Whether an object's `apiVersion` and `kind` are this resource's (any version of the group).
    public func matches(apiVersion: String, kind: String) -> Bool {
        kind == self.kind && group(of: apiVersion) == mapping.resource.group
    }

    public var description: String { typeKey }
}

func group(of apiVersion: String) -> String {
    guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
    return String(apiVersion[..<slash])
}

/// A plugin's config with every resource mapped, checked before anything runs.
public struct ResolvedPlugin: Sendable {
    public struct Related: Sendable {
        public var resource: ResolvedResource
        public var spec: RelatedResource
    }

    public struct Grant: Sendable {
        public var resource: ResolvedResource
        public var permission: Permission
    }

    public var spec: PluginSpec
    public var primary: ResolvedResource
    public var owns: [ResolvedResource]
    public var related: [Related]
    public var grants: [Grant]

    public var name: String { spec.name }

    /// The owned resource an object belongs to, if its kind is owned.
    public func owned(apiVersion: String, kind: String) -> ResolvedResource? {
        owns.first { $0.matches(apiVersion: apiVersion, kind: kind) }
    }
}

/// Why the config cannot run against this cluster: every unknown resource, each
/// with the config file and the place in it.
public struct ResolutionError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// Maps every resource of a config through discovery, all at once, so that
/// every unknown kind is reported before anything runs.
public struct ConfigResolver: Sendable {
    public var discovery: Discovery

    public init(discovery: Discovery) { self.discovery = discovery }

    public func resolve(_ config: PlugboardConfig) async throws -> [ResolvedPlugin] {
        var problems: [String] = []
        var plugins: [ResolvedPlugin] = []
        let mappings = try await discovery.all()
        func resolve(_ ref: ResourceRef, at path: String, verbs: Set<String> = ["list", "watch"], report: Bool = true) -> ResolvedResource? {
            let found = mappings.first { mapping in
                guard mapping.resource.group == ref.group && mapping.resource.version == ref.version else { return false }
                switch ref.identifier {
                case .kind(let kind): return mapping.kind == kind
                case .resource(let resource): return mapping.resource.resource == resource
                }
            }
            guard let found else {
                if report { problems.append("\(config.file): \(path): the server does not serve \(ref) (check the apiVersion and kind, and that its CRD is installed)") }
                return nil
            }
            let missing = verbs.subtracting(found.verbs)
            if !found.verbs.isEmpty && !missing.isEmpty {
                problems.append("\(config.file): \(path): \(ref) does not support \(missing.sorted().joined(separator: ", "))")
            }
            return ResolvedResource(found)
        }
        for (index, spec) in config.plugins.enumerated() {
            let at = "plugins[\(index)]"
            let primary = resolve(spec.watch.resource, at: "\(at).watch")
            let owns = spec.owns.enumerated().map { resolve($0.element, at: "\(at).owns[\($0.offset)]") }
            let related = spec.related.enumerated().map { item in
                resolve(item.element.resource, at: "\(at).related[\(item.offset)]").map { ResolvedPlugin.Related(resource: $0, spec: item.element) }
            }
            // Default permissions name the watched and owned kinds, already reported above if unknown.
            let explicit = spec.permissions != PluginSpec.defaultPermissions(primary: spec.watch.resource, owns: spec.owns)
            let grants = spec.permissions.enumerated().map { item in
                resolve(item.element.resource, at: "\(at).permissions[\(item.offset)]", verbs: [], report: explicit)
                    .map { ResolvedPlugin.Grant(resource: $0, permission: item.element) }
            }
            if let primary, !spec.watch.namespaces.isEmpty, !primary.namespaced {
                problems.append("\(config.file): \(at).watch.namespaces: \(primary.kind) is cluster-scoped and has no namespaces")
            }
            // Status writes go to the status subresource. The default permissions grant status on the
            // primary whether or not it has one; a grant written in the config must be usable.
            if let primary, explicit, !primary.mapping.subresources.contains("status"),
               grants.contains(where: { $0?.resource == primary && $0?.permission.verbs.contains(.status) == true })
            {
                problems.append("\(config.file): \(at).permissions: \(primary.kind) has no status subresource, so the status verb cannot be used")
            }
            if let primary {
                plugins.append(ResolvedPlugin(spec: spec, primary: primary, owns: owns.compactMap { $0 }, related: related.compactMap { $0 },
                                              grants: grants.compactMap { $0 }))
            }
        }
        if !problems.isEmpty { throw ResolutionError(problems: problems) }
        return plugins
    }
}
