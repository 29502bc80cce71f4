import KubeCore

/// Where an entry of a kubeconfig came from: the file and the field path
/// inside it. Used for error messages after several files have been merged.
public struct KubeconfigLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var field: String

    public init(file: String, field: String) {
        self.file = file
        self.field = field
    }

    public var description: String { "\(file): \(field)" }
}

/// A kubeconfig, as read from one file or merged from several.
///
/// File paths inside it (`certificate-authority`, `client-certificate`,
/// `client-key`, `tokenFile`, and an exec `command` containing a `/`) are
/// already absolute: relative ones were resolved against the directory of
/// the file that named them.
public struct Kubeconfig: Sendable, Equatable {
    public var currentContext: String?
    /// Which file set `current-context`.
    public var currentContextOrigin: String?
    public var clusters: [String: Cluster]
    public var users: [String: User]
    public var contexts: [String: Context]
    /// The files this configuration was read from, in precedence order.
    public var files: [String]

    public init(
        currentContext: String? = nil,
        currentContextOrigin: String? = nil,
        clusters: [String: Cluster] = [:],
        users: [String: User] = [:],
        contexts: [String: Context] = [:],
        files: [String] = []
    ) {
        self.currentContext = currentContext
        self.currentContextOrigin = currentContextOrigin
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
        self.files = files
    }

    /// `files` joined for messages about the configuration as a whole.
    public var filesDescription: String {
        files.isEmpty ? "<no files>" : files.joined(separator: ":")
    }
}

extension Kubeconfig {
    public struct Cluster: Sendable, Equatable {
        public var server: String?
        /// Absolute path of the CA bundle file.
        public var certificateAuthority: String?
        /// Base64 PEM, as written in the file (decoded on resolution).
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool
        public var tlsServerName: String?
        public var proxyURL: String?
        /// The `client.authentication.k8s.io/exec` extension, passed to exec plugins as `spec.cluster.config`.
        public var execExtension: JSON?
        public var location: KubeconfigLocation

        public init(
            server: String? = nil, certificateAuthority: String? = nil, certificateAuthorityData: String? = nil,
            insecureSkipTLSVerify: Bool = false, tlsServerName: String? = nil, proxyURL: String? = nil,
            execExtension: JSON? = nil, location: KubeconfigLocation
        ) {
            self.server = server
            self.certificateAuthority = certificateAuthority
            self.certificateAuthorityData = certificateAuthorityData
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.tlsServerName = tlsServerName
            self.proxyURL = proxyURL
            self.execExtension = execExtension
            self.location = location
        }
    }

    public struct User: Sendable, Equatable {
        public var token: String?
        /// Absolute path of a file holding a bearer token.
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var username: String?
        public var password: String?
        public var exec: ExecConfig?
        public var location: KubeconfigLocation

        public init(
            token: String? = nil, tokenFile: String? = nil,
            clientCertificate: String? = nil, clientCertificateData: String? = nil,
            clientKey: String? = nil, clientKeyData: String? = nil,
            username: String? = nil, password: String? = nil,
            exec: ExecConfig? = nil, location: KubeconfigLocation
        ) {
            self.token = token
            self.tokenFile = tokenFile
            self.clientCertificate = clientCertificate
            self.clientCertificateData = clientCertificateData
            self.clientKey = clientKey
            self.clientKeyData = clientKeyData
            self.username = username
            self.password = password
            self.exec = exec
            self.location = location
        }
    }

    public struct Context: Sendable, Equatable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
        public var location: KubeconfigLocation

        public init(cluster: String, user: String? = nil, namespace: String? = nil, location: KubeconfigLocation) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
            self.location = location
        }
    }
}
