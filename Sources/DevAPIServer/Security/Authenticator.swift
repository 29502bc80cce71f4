import NIOCore
import NIOSSL

/// Who may call the dev server. With no tokens and no client CA every request
/// is allowed (the default on loopback); otherwise each request must carry a
/// known bearer token or a client certificate signed by the client CA.
/// Health and version endpoints stay open, as on a real cluster.
public struct Authentication: Sendable {
    /// Bearer token → user name.
    public var tokens: [String: String]
    /// PEM of the CA that signs accepted client certificates.
    public var clientCAPEM: String?

    public init(tokens: [String: String] = [:], clientCAPEM: String? = nil) {
        self.tokens = tokens
        self.clientCAPEM = clientCAPEM
    }

    public var isEnabled: Bool { !tokens.isEmpty || clientCAPEM != nil }

    static let publicPaths: Set<String> = ["/healthz", "/readyz", "/livez", "/version"]

    /// The authenticated user name, or nil. The TLS layer has already verified
    /// any client certificate against the client CA.
    func authenticate(authorization: String?, channel: any Channel) async -> String? {
        if let authorization, authorization.hasPrefix("Bearer ") {
            let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
            if let user = tokens[token] { return user }
            // An unknown token falls through to the certificate, as in kube-apiserver's union of authenticators.
        }
        guard clientCAPEM != nil else { return nil }
        let der: [UInt8]? = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate.map { try $0.toDERBytes() }
        }.get() ?? nil
        guard let der, let identity = ClientIdentity.user(fromDER: der) else { return nil }
        return identity.name
    }
}
