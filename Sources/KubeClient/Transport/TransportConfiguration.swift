/// Credentials for one request.
public enum Credential: Sendable, Equatable {
    case none
    case bearer(String)
    case basic(user: String, password: String)
}

/// Where credentials come from: fixed, or produced (and refreshed) by a
/// provider such as an exec plugin or a rotating token file.
public enum CredentialSource: Sendable {
    case fixed(Credential)
    /// `current` is asked before each request; `invalidate` after a 401, so the
    /// next `current` fetches a fresh credential.
    case dynamic(current: @Sendable () async throws -> Credential, invalidate: @Sendable () async -> Void)
}

/// Everything the transport needs to reach one API server.
public struct TransportConfiguration: Sendable {
    /// `https://host:port`, optionally with a path prefix.
    public var server: String
    /// PEM of the CA that signs the server's certificate; nil uses the system roots.
    public var certificateAuthorityPEM: String?
    public var clientCertificatePEM: String?
    public var clientKeyPEM: String?
    /// The name to verify the server certificate against (and send as SNI) when
    /// it differs from the host in `server` (kubeconfig `tls-server-name`).
    public var tlsServerName: String?
    /// An HTTP(S) or SOCKS5 proxy: `http://host:port` or `socks5://host:port`.
    public var proxyURL: String?
    /// Skips server certificate verification. Off unless a kubeconfig asks for it.
    public var insecureSkipTLSVerify = false
    public var credentials: CredentialSource = .fixed(.none)
    /// Client-side rate limit. client-go's 5 qps / 10 burst throttled
    /// Metacontroller's syncs for up to an hour; the server's Priority and Fairness
    /// is the real protection, so the client limit only stops runaway loops:
    /// 50 qps with bursts of 100, as kubectl uses for discovery-heavy work.
    public var qps: Double = 50
    public var burst: Int = 100
    /// Time to establish a connection (AsyncHTTPClient keeps retrying a refused
    /// connection until then).
    public var connectTimeout: Duration = .seconds(10)
    /// Time until response headers for ordinary requests.
    public var requestTimeout: Duration = .seconds(60)
    /// Longest silence on an open connection, which bounds a watch with no
    /// events; watches ask for bookmarks and a server timeout below this.
    public var readIdleTimeout: Duration = .seconds(330)
    /// How often a request is retried after 429 (or 5xx) with `Retry-After`,
    /// or a GET after a connection failure. client-go uses 10.
    public var maxRetries = 10
    public var userAgent = "plugboard/0.1"

    public init(server: String) {
        self.server = server
    }
}
