/// `/api`: the versions of the core group.
public struct APIVersions: Codable, Sendable, Equatable {
    public var versions: [String]
}

/// `/apis`: the named groups.
public struct APIGroupList: Codable, Sendable, Equatable {
    public var groups: [APIGroup]
}

public struct APIGroup: Codable, Sendable, Equatable {
    public struct Version: Codable, Sendable, Equatable {
        public var groupVersion: String
        public var version: String
    }

    public var name: String
    public var versions: [Version]
    public var preferredVersion: Version?
}

/// `/api/v1` or `/apis/GROUP/VERSION`: the resources of one group version.
public struct APIResourceList: Codable, Sendable, Equatable {
    public var groupVersion: String
    public var resources: [APIResource]
}

public struct APIResource: Codable, Sendable, Equatable {
    public var name: String
    public var singularName: String?
    public var namespaced: Bool
    public var kind: String
    public var verbs: [String]
    public var shortNames: [String]?
    public var categories: [String]?
}
