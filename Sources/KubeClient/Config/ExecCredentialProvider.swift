import Foundation
import KubeCore
import Logging

/// Runs an exec credential plugin (`client.authentication.k8s.io/v1` or
/// `v1beta1`) and caches what it returns.
///
/// - The credential is reused until its `expirationTimestamp` passes (forever if
///   it has none), or until `invalidate()` is called — the transport calls that
///   on a 401 so the next request re-runs the plugin.
/// - Concurrent callers share one plugin run.
/// - The plugin runs with stdin from /dev/null. `interactiveMode: Never` and
///   `IfAvailable` run non-interactively; `Always` is rejected.
/// - A plugin still running after `timeout` is killed.
public actor ExecCredentialProvider {
    public nonisolated let config: ExecConfig
    public nonisolated let clusterInfo: ExecClusterInfo?
    private let baseEnvironment: [String: String]
    private let timeout: Duration
    private let now: @Sendable () -> Date
    private let logger: Logger

    private var cached: ExecCredential?
    private var inFlight: Task<ExecCredential, any Error>?
    /// How many times the plugin has been started (for diagnostics and tests).
    public private(set) var runCount = 0

    /// - Parameters:
    ///   - clusterInfo: sent in `KUBERNETES_EXEC_INFO` when `config.provideClusterInfo` is set.
    ///   - environment: the environment the plugin inherits (before `config.env` is applied).
    ///   - now: the clock used for expiry; injectable for tests.
    public init(
        config: ExecConfig,
        clusterInfo: ExecClusterInfo? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        timeout: Duration = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "plugboard.kubeclient.exec")
    ) {
        self.config = config
        self.clusterInfo = clusterInfo
        self.baseEnvironment = environment
        self.timeout = timeout
        self.now = now
        self.logger = logger
    }

    /// A valid credential: the cached one, or a fresh one from running the plugin.
    public func credential() async throws -> ExecCredential {
        if let cached, cached.expiration.map({ now() < $0 }) ?? true {
            return cached
        }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await self.runPlugin() }
        inFlight = task
        defer { inFlight = nil }
        let credential = try await task.value
        cached = credential
        return credential
    }

    /// Forget the cached credential; the next `credential()` runs the plugin again.
    public func invalidate() {
        cached = nil
    }

    private func runPlugin() async throws -> ExecCredential {
        let command = config.command
        if config.interactiveMode == .always {
            throw ExecPluginError.interactiveModeUnsupported(command: command, mode: config.interactiveMode.rawValue)
        }
        var environment = baseEnvironment
        for entry in config.env { environment[entry.name] = entry.value }
        environment["KUBERNETES_EXEC_INFO"] = execInfo().serializedString()
        guard let executable = ProcessRunner.locate(command, environment: environment) else {
            throw ExecPluginError.commandNotFound(command: command, installHint: config.installHint)
        }
        runCount += 1
        logger.debug("running exec credential plugin", metadata: ["command": "\(command)"])
        let output: ProcessOutput
        do {
            output = try await ProcessRunner.run(
                executable: executable, arguments: config.args, environment: environment, timeout: timeout)
        } catch ProcessRunError.timedOut {
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            throw ExecPluginError.timedOut(command: command, seconds: seconds)
        } catch ProcessRunError.launchFailed(let reason) {
            throw ExecPluginError.launchFailed(command: command, reason: reason)
        } catch ProcessRunError.cancelled {
            throw CancellationError()
        }
        let stderrLine = KubeconfigParser.firstLine(String(decoding: output.stderr, as: UTF8.self))
        switch output.termination {
        case .exited(0):
            break
        case .exited(let status):
            throw ExecPluginError.failed(command: command, exitStatus: status, stderr: stderrLine)
        case .signalled(let signal):
            throw ExecPluginError.killedBySignal(command: command, signal: signal, stderr: stderrLine)
        }
        return try Self.parse(output.stdout, command: command, apiVersion: config.apiVersion)
    }

    private func execInfo() -> JSON {
        var spec: [String: JSON] = ["interactive": .bool(false)]
        if config.provideClusterInfo, let info = clusterInfo {
            var cluster: [String: JSON] = ["server": .string(info.server)]
            if let name = info.tlsServerName { cluster["tls-server-name"] = .string(name) }
            if info.insecureSkipTLSVerify { cluster["insecure-skip-tls-verify"] = .bool(true) }
            if let ca = info.certificateAuthorityPEM {
                cluster["certificate-authority-data"] = .string(Data(ca.utf8).base64EncodedString())
            }
            if let proxy = info.proxyURL { cluster["proxy-url"] = .string(proxy) }
            if let extra = info.config { cluster["config"] = extra }
            spec["cluster"] = .object(cluster)
        }
        return .object([
            "apiVersion": .string(config.apiVersion.rawValue),
            "kind": "ExecCredential",
            "spec": .object(spec),
        ])
    }

    static func parse(_ stdout: Data, command: String, apiVersion: ExecConfig.APIVersion) throws -> ExecCredential {
        func invalid(_ problem: String) -> ExecPluginError { .invalidOutput(command: command, problem: problem) }
        let json: JSON
        do {
            json = try JSON.parse(Array(stdout))
        } catch {
            let start = String(decoding: stdout.prefix(60), as: UTF8.self)
            throw invalid("not JSON (\(error.description)); output starts with \"\(start)\"")
        }
        guard case .object = json else { throw invalid("expected a JSON object, found \(json.typeName)") }
        guard json["kind"]?.stringValue == "ExecCredential" else {
            throw invalid("kind is \(json["kind"]?.serializedString() ?? "missing"), expected \"ExecCredential\"")
        }
        let returnedVersion = json["apiVersion"]?.stringValue ?? ""
        guard returnedVersion == apiVersion.rawValue else {
            throw invalid("apiVersion is \"\(returnedVersion)\", but the kubeconfig asks for \"\(apiVersion.rawValue)\"")
        }
        guard let status = json["status"], case .object = status else { throw invalid("status is missing") }
        func string(_ key: String) throws -> String? {
            guard let value = status[key], !value.isNull else { return nil }
            guard let text = value.stringValue else { throw invalid("status.\(key) must be a string, found \(value.typeName)") }
            return text.isEmpty ? nil : text
        }
        let token = try string("token")
        let cert = try string("clientCertificateData")
        let key = try string("clientKeyData")
        if (cert == nil) != (key == nil) {
            throw invalid(cert == nil ? "status.clientKeyData is set without status.clientCertificateData"
                                      : "status.clientCertificateData is set without status.clientKeyData")
        }
        if token == nil && cert == nil {
            throw invalid("status has neither token nor clientCertificateData/clientKeyData")
        }
        var expiration: Date?
        if let stamp = try string("expirationTimestamp") {
            guard let date = parseRFC3339(stamp) else {
                throw invalid("status.expirationTimestamp \"\(stamp)\" is not an RFC 3339 time")
            }
            expiration = date
        }
        return ExecCredential(token: token, clientCertificatePEM: cert, clientKeyPEM: key, expiration: expiration)
    }

    static func parseRFC3339(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
