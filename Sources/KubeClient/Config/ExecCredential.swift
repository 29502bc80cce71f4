import Foundation
import KubeCore

/// What an exec credential plugin returned in `ExecCredential.status`.
public struct ExecCredential: Sendable, Equatable {
    /// A bearer token, if the plugin returned one.
    public var token: String?
    /// PEM client certificate and key, if the plugin returned them (always both).
    public var clientCertificatePEM: String?
    public var clientKeyPEM: String?
    /// When the credential stops being valid; `nil` means it does not expire.
    public var expiration: Date?

    public init(token: String? = nil, clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil, expiration: Date? = nil) {
        self.token = token
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.expiration = expiration
    }
}

/// Cluster details passed to a plugin in `KUBERNETES_EXEC_INFO` when the
/// kubeconfig sets `provideClusterInfo: true`.
public struct ExecClusterInfo: Sendable, Equatable {
    public var server: String
    public var tlsServerName: String?
    public var insecureSkipTLSVerify: Bool
    /// PEM text; sent base64-encoded as `certificate-authority-data`.
    public var certificateAuthorityPEM: String?
    public var proxyURL: String?
    /// The cluster's `client.authentication.k8s.io/exec` extension, sent as `config`.
    public var config: JSON?

    public init(
        server: String, tlsServerName: String? = nil, insecureSkipTLSVerify: Bool = false,
        certificateAuthorityPEM: String? = nil, proxyURL: String? = nil, config: JSON? = nil
    ) {
        self.server = server
        self.tlsServerName = tlsServerName
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.proxyURL = proxyURL
        self.config = config
    }
}

/// Why running an exec credential plugin failed. Messages name the command.
public enum ExecPluginError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command is not an executable file / not found in `PATH`.
    case commandNotFound(command: String, installHint: String?)
    case launchFailed(command: String, reason: String)
    /// `interactiveMode: Always` needs a terminal; a controller has none.
    case interactiveModeUnsupported(command: String, mode: String)
    /// The plugin exited non-zero; `stderr` is the first line it wrote there.
    case failed(command: String, exitStatus: Int32, stderr: String)
    case killedBySignal(command: String, signal: Int32, stderr: String)
    case timedOut(command: String, seconds: Double)
    /// Stdout was not a usable `ExecCredential`.
    case invalidOutput(command: String, problem: String)

    public var description: String {
        switch self {
        case .commandNotFound(let command, let hint):
            return "exec plugin: command \"\(command)\" not found or not executable" + (hint.map { "\n\($0)" } ?? "")
        case .launchFailed(let command, let reason):
            return "exec plugin \"\(command)\" could not be started: \(reason)"
        case .interactiveModeUnsupported(let command, let mode):
            return "exec plugin \"\(command)\": interactiveMode \(mode) is not supported (no terminal is available); use Never or IfAvailable"
        case .failed(let command, let status, let stderr):
            return "exec plugin \"\(command)\" exited with status \(status)" + (stderr.isEmpty ? "" : ": \(stderr)")
        case .killedBySignal(let command, let signal, let stderr):
            return "exec plugin \"\(command)\" was killed by signal \(signal)" + (stderr.isEmpty ? "" : ": \(stderr)")
        case .timedOut(let command, let seconds):
            return "exec plugin \"\(command)\" did not finish within \(seconds) seconds and was killed"
        case .invalidOutput(let command, let problem):
            return "exec plugin \"\(command)\" printed an invalid ExecCredential: \(problem)"
        }
    }
}
