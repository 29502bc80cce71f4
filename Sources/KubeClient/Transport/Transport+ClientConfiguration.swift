import Foundation
import Logging

/// Why a resolved configuration cannot be used by the transport.
public struct TransportSetupError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension TransportConfiguration {
    /// The transport settings for a configuration resolved from a kubeconfig
    /// or the in-cluster environment. Rotating credentials (token files, exec
    /// plugins) become a dynamic source, asked before each request and
    /// invalidated after a 401.
    public init(_ client: ClientConfiguration) throws {
        self.init(server: client.server.absoluteString)
        certificateAuthorityPEM = client.certificateAuthorityPEM
        clientCertificatePEM = client.clientCertificatePEM
        clientKeyPEM = client.clientKeyPEM
        insecureSkipTLSVerify = client.insecureSkipTLSVerify
        tlsServerName = client.tlsServerName
        proxyURL = client.proxyURL.map { "\($0)" }
        switch client.authentication {
        case .none:
            credentials = .fixed(.none)
        case .bearerToken(let token):
            credentials = .fixed(.bearer(token))
        case .basic(let user, let password):
            credentials = .fixed(.basic(user: user, password: password))
        case .tokenFile(let source):
            credentials = .dynamic(current: { .bearer(try source.token()) }, invalidate: {})
        case .exec(let provider):
            credentials = .dynamic(
                current: {
                    let credential = try await provider.credential()
                    guard let token = credential.token else {
                        throw TransportSetupError(message: "the exec plugin returned a client certificate; exec client certificates are not supported by this transport yet")
                    }
                    return .bearer(token)
                },
                invalidate: { await provider.invalidate() })
        }
    }
}
