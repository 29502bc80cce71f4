/// The resources being served: the built-ins plus one per established CRD.
struct ResourceRegistry: Sendable {
    private(set) var byGroupResource: [GroupResource: ResourceInfo] = [:]

    init(_ resources: [ResourceInfo]) {
        for info in resources { byGroupResource[info.groupResource] = info }
    }

    var all: [ResourceInfo] {
        byGroupResource.values.sorted { ($0.group, $0.resource) < ($1.group, $1.resource) }
    }

    func lookup(group: String, version: String, resource: String) -> ResourceInfo? {
        guard let info = byGroupResource[GroupResource(group: group, resource: resource)], info.versions.contains(version) else { return nil }
        return info
    }

    func lookup(_ resource: GroupResource) -> ResourceInfo? { byGroupResource[resource] }

    /// A built-in resource that always exists.
    func builtin(_ group: String, _ resource: String) -> ResourceInfo {
        guard let info = byGroupResource[GroupResource(group: group, resource: resource)] else {
            preconditionFailure("built-in resource \(resource).\(group) is always registered")
        }
        return info
    }

    mutating func register(_ info: ResourceInfo) { byGroupResource[info.groupResource] = info }

    mutating func unregister(_ resource: GroupResource) { byGroupResource[resource] = nil }
}
