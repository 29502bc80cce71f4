import Foundation

/// Everything the transport needs to talk to one API server, fully resolved:
/// files already read, base64 already decoded, the context already chosen.
public struct ClientConfiguration: Sendable {
    public var server: URL
    /// The namespace of the context, or "default".
    public var namespace: String
    /// PEM CA bundle to trust; `nil` means the system trust store.
    public var certificateAuthorityPEM: String?
    /// PEM client certificate and key (always both or neither).
    public var clientCertificatePEM: String?
    public var clientKeyPEM: String?
    public var insecureSkipTLSVerify: Bool
    /// Overrides the name checked against the server certificate (SNI and verification).
    public var tlsServerName: String?
    public var proxyURL: URL?
    public var authentication: ClientAuthentication
    /// Where this came from, e.g. `context "dev" in /home/me/.kube/config` or `in-cluster`.
    public var source: String

    public init(
        server: URL, namespace: String = "default", certificateAuthorityPEM: String? = nil,
        clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil, insecureSkipTLSVerify: Bool = false,
        tlsServerName: String? = nil, proxyURL: URL? = nil, authentication: ClientAuthentication = .none, source: String = ""
    ) {
        self.server = server
        self.namespace = namespace
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.proxyURL = proxyURL
        self.authentication = authentication
        self.source = source
    }
}
