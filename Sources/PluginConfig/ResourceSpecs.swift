import KubeCore

/// A Kubernetes resource type, named by API version and either its kind or
/// its plural resource name. The host maps one to the other through discovery.
public struct ResourceRef: Sendable, Hashable, CustomStringConvertible {
    /// How the type is named in the file.
    public enum Identifier: Sendable, Hashable {
        /// UpperCamel kind, such as `Deployment`.
        case kind(String)
        /// Lowercase plural resource, such as `deployments`.
        case resource(String)
    }

    /// `v1` for the core group, `group/version` otherwise.
    public let apiVersion: String
    public let identifier: Identifier

    public init(apiVersion: String, _ identifier: Identifier) {
        self.apiVersion = apiVersion
        self.identifier = identifier
    }

    public init(apiVersion: String, kind: String) {
        self.init(apiVersion: apiVersion, .kind(kind))
    }

    public init(apiVersion: String, resource: String) {
        self.init(apiVersion: apiVersion, .resource(resource))
    }

    /// The API group; empty for the core group.
    public var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// The version part of `apiVersion`.
    public var version: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return apiVersion }
        return String(apiVersion[apiVersion.index(after: slash)...])
    }

    /// The kind, when the type was named by kind.
    public var kind: String? {
        if case .kind(let kind) = identifier { return kind }
        return nil
    }

    /// The plural resource, when the type was named by resource.
    public var resource: String? {
        if case .resource(let resource) = identifier { return resource }
        return nil
    }

    /// `apps/v1 Deployment` or `apps/v1 deployments`.
    public var description: String {
        switch identifier {
        case .kind(let kind): "\(apiVersion) \(kind)"
        case .resource(let resource): "\(apiVersion) \(resource)"
        }
    }
}

/// Which namespaces a related resource or a permission covers.
public enum NamespaceScope: Sendable, Hashable {
    /// The namespace of the primary object being reconciled.
    case same
    /// Every namespace (and cluster-scoped objects).
    case all
    /// Exactly these namespaces.
    case list([String])
}

/// The primary resource of a plugin.
public struct WatchSpec: Sendable, Hashable {
    public let resource: ResourceRef
    /// Namespaces to watch; empty means all of them.
    public let namespaces: [String]
    /// Only objects whose labels match; empty matches all.
    public let labelSelector: LabelSelector
    /// Only objects whose fields match; empty matches all.
    public let fieldSelector: FieldSelector

    public init(resource: ResourceRef, namespaces: [String] = [], labelSelector: LabelSelector = .everything, fieldSelector: FieldSelector = FieldSelector()) {
        self.resource = resource
        self.namespaces = namespaces
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }
}

/// Objects sent to the plugin with each request. A change to one of them
/// re-enqueues the primaries it is related to (those in its namespace, for
/// scope `same`; all primaries otherwise).
public struct RelatedResource: Sendable, Hashable {
    public let resource: ResourceRef
    /// Default `.same`.
    public let namespaces: NamespaceScope
    /// Only objects whose labels match; empty matches all.
    public let labelSelector: LabelSelector
    /// Only the object with this name, when set.
    public let name: String?

    public init(resource: ResourceRef, namespaces: NamespaceScope = .same, labelSelector: LabelSelector = .everything, name: String? = nil) {
        self.resource = resource
        self.namespaces = namespaces
        self.labelSelector = labelSelector
        self.name = name
    }
}

/// Writes a plugin's actions may make to one resource type.
public struct Permission: Sendable, Hashable {
    /// A kind of write an action can make.
    public enum Verb: String, Sendable, Hashable, CaseIterable, Comparable {
        case apply, create, update, patch, delete
        /// Writes to the `status` subresource.
        case status

        /// Every verb except `status`: what a permission without `verbs` allows.
        public static let defaultVerbs: Set<Verb> = [.apply, .create, .update, .patch, .delete]

        public static func < (lhs: Verb, rhs: Verb) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public let resource: ResourceRef
    /// Default `.same`.
    public let namespaces: NamespaceScope
    /// Never empty.
    public let verbs: Set<Verb>

    public init(resource: ResourceRef, namespaces: NamespaceScope = .same, verbs: Set<Verb> = Verb.defaultVerbs) {
        self.resource = resource
        self.namespaces = namespaces
        self.verbs = verbs
    }
}
