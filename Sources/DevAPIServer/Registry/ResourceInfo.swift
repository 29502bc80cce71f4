import KubeCore

/// Identifies a stored resource independent of its version: objects of one
/// group/resource share one table whichever version they are read through.
public struct GroupResource: Hashable, Sendable, CustomStringConvertible {
    public var group: String
    public var resource: String

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }

    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// Everything the server knows about one served resource: names, scope,
/// verbs, subresources and how its objects merge and validate.
public struct ResourceInfo: Sendable {
    public var group: String
    /// Served versions, preferred (storage) version first.
    public var versions: [String]
    public var resource: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var shortNames: [String] = []
    public var categories: [String] = []
    public var hasStatus: Bool = false
    /// Whether `metadata.generation` is kept (bumped on changes outside metadata and status).
    public var tracksGeneration: Bool = false
    public var nameRule: NameValidation.NameRule = .dnsSubdomain
    /// Whether a PUT of an object without `metadata.resourceVersion` is accepted.
    public var allowUnconditionalUpdate: Bool = true
    public var schema: ObjectSchema = .generic
    /// The CRD schema per version, for custom resources.
    public var structural: [String: StructuralSchema] = [:]
    /// The CRD's `openAPIV3Schema` per version, as given, for the OpenAPI documents.
    public var openAPISchemas: [String: JSON] = [:]
    /// `additionalPrinterColumns` per version, for custom resources: (name, type, jsonPath).
    public var printerColumns: [String: [PrinterColumn]] = [:]
    /// True for resources defined by a CustomResourceDefinition.
    public var isCustom: Bool = false

    public var groupResource: GroupResource { GroupResource(group: group, resource: resource) }
    public var storageVersion: String { versions[0] }
    public var listKind: String { kind + "List" }
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }

    public func apiVersion(_ version: String) -> String { group.isEmpty ? version : "\(group)/\(version)" }

    public static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public init(group: String, versions: [String], resource: String, singular: String, kind: String, namespaced: Bool) {
        self.group = group
        self.versions = versions
        self.resource = resource
        self.singular = singular
        self.kind = kind
        self.namespaced = namespaced
        self.schema = ObjectSchema.builtin(group: group, kind: kind)
    }
}

public struct PrinterColumn: Sendable, Hashable {
    public var name: String
    public var type: String
    public var jsonPath: String
    public var description: String
    public var priority: Int
}
