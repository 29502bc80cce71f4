/// `coordination.k8s.io/v1` Lease, for leader election.
public struct Lease: Codable, Sendable, Equatable {
    public struct Spec: Codable, Sendable, Equatable {
        public var holderIdentity: String?
        public var leaseDurationSeconds: Int?
        /// RFC 3339 with microseconds (`MicroTime`).
        public var acquireTime: String?
        public var renewTime: String?
        public var leaseTransitions: Int?

        public init(holderIdentity: String? = nil, leaseDurationSeconds: Int? = nil, acquireTime: String? = nil,
                    renewTime: String? = nil, leaseTransitions: Int? = nil)
        {
            self.holderIdentity = holderIdentity
            self.leaseDurationSeconds = leaseDurationSeconds
            self.acquireTime = acquireTime
            self.renewTime = renewTime
            self.leaseTransitions = leaseTransitions
        }
    }

    public var apiVersion = "coordination.k8s.io/v1"
    public var kind = "Lease"
    public var metadata: ObjectMeta
    public var spec: Spec?

    public init(metadata: ObjectMeta, spec: Spec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// Core `v1` Event, for reporting on an object.
public struct Event: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        public var component: String?
        public var host: String?
        public init(component: String? = nil, host: String? = nil) {
            self.component = component
            self.host = host
        }
    }

    public var apiVersion = "v1"
    public var kind = "Event"
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    /// `Normal` or `Warning`.
    public var type: String?
    public var count: Int?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var source: Source?
    public var reportingComponent: String?
    public var reportingInstance: String?
    public var action: String?

    public init(metadata: ObjectMeta, involvedObject: ObjectReference, reason: String?, message: String?, type: String?) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
    }
}

/// Core `v1` Namespace.
public struct Namespace: Codable, Sendable, Equatable {
    public struct Status: Codable, Sendable, Equatable {
        /// `Active` or `Terminating`.
        public var phase: String?
    }

    public var apiVersion = "v1"
    public var kind = "Namespace"
    public var metadata: ObjectMeta
    public var status: Status?

    public init(metadata: ObjectMeta) { self.metadata = metadata }
}

/// `apiextensions.k8s.io/v1` CustomResourceDefinition: the parts the host reads
/// and writes. The schema stays a JSON value.
public struct CustomResourceDefinition: Codable, Sendable, Equatable {
    public struct Names: Codable, Sendable, Equatable {
        public var plural: String
        public var singular: String?
        public var kind: String
        public var listKind: String?
        public var shortNames: [String]?
        public var categories: [String]?
    }

    public struct Version: Codable, Sendable, Equatable {
        public var name: String
        public var served: Bool
        public var storage: Bool
        public var schema: [String: JSONValue]?
        public var subresources: [String: JSONValue]?
    }

    public struct Spec: Codable, Sendable, Equatable {
        public var group: String
        public var names: Names
        /// `Namespaced` or `Cluster`.
        public var scope: String
        public var versions: [Version]
    }

    public struct Condition: Codable, Sendable, Equatable {
        public var type: String
        public var status: String
        public var reason: String?
        public var message: String?
    }

    public struct Status: Codable, Sendable, Equatable {
        public var conditions: [Condition]?
        public var storedVersions: [String]?
    }

    public var apiVersion = "apiextensions.k8s.io/v1"
    public var kind = "CustomResourceDefinition"
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    /// Whether the API server serves the resource yet.
    public var isEstablished: Bool {
        status?.conditions?.contains { $0.type == "Established" && $0.status == "True" } ?? false
    }
}

/// `meta/v1` Status, as error bodies and delete responses carry it.
public struct Status: Codable, Sendable, Equatable {
    public struct Cause: Codable, Sendable, Equatable {
        public var reason: String?
        public var message: String?
        public var field: String?
    }

    public struct Details: Codable, Sendable, Equatable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var uid: String?
        public var causes: [Cause]?
        public var retryAfterSeconds: Int?
    }

    public var kind = "Status"
    public var apiVersion = "v1"
    /// `Success` or `Failure`.
    public var status: String?
    public var message: String?
    public var reason: String?
    public var details: Details?
    public var code: Int?
}
