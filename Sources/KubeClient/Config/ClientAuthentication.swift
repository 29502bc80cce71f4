/// How the client proves who it is, beyond any TLS client certificate.
public enum ClientAuthentication: Sendable {
    case none
    /// A static bearer token.
    case bearerToken(String)
    /// A bearer token read from a file, re-read when the file changes.
    case tokenFile(TokenFileSource)
    /// HTTP basic authentication.
    case basic(username: String, password: String)
    /// An exec credential plugin; its credential may be a token or a client certificate.
    case exec(ExecCredentialProvider)
}
