import ArgumentParser
import Foundation
import KubeClient
import KubeCore
import Logging
import Observability
import PluginConfig
import PluginHost
import ServiceLifecycle

/// `plugboard run`: the plugin host against a cluster.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the plugin host against a cluster.",
        discussion: """
            Reads the config file (see docs/configuration.md), resolves every resource through \
            discovery, starts supervised plugins and reconciles until SIGTERM or Ctrl-C. The \
            kubeconfig is found as kubectl does: --kubeconfig, then KUBECONFIG, then the in-cluster \
            service account, then ~/.kube/config.
            """
    )

    @Option(name: .customLong("config"), help: "The plugin host's config file (YAML).")
    var config: String

    @Option(name: .customLong("kubeconfig"), help: "Kubeconfig file to use.")
    var kubeconfig: String?

    @Option(name: .customLong("context"), help: "Kubeconfig context to use.")
    var context: String?

    @OptionGroup var host: HostOptions

    @Option(name: .customLong("metrics-address"),
            help: "Where to serve /metrics, /healthz, /readyz and the dashboard, HOST:PORT (port 0 picks a free one; the address is logged).")
    var metricsAddress: String = ObservabilityOptions.defaultAddress

    func validate() throws {
        try host.validate()
        _ = try ListenAddress(metricsAddress, flag: "--metrics-address")
    }

    func run() async throws {
        LoggingSystem.bootstrap(host.logHandlerFactory)
        // Before anything makes a metric: handles made earlier would go nowhere.
        let registry = PlugboardMetricsFactory.bootstrap(version: PlugboardVersion.current)
        let logger = host.makeLogger()
        logger.debug("allocator", metadata: ["tuning": "\(PlugboardMain.allocatorTuning)"])
        let plugboardConfig: PlugboardConfig
        do {
            plugboardConfig = try PlugboardConfig.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        let client: ClientConfiguration
        do {
            client = try ClientConfigurationLoader.load(explicitPath: kubeconfig, context: context)
        } catch {
            FileHandle.standardError.write(Data("kubeconfig: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var transportConfiguration = try TransportConfiguration(client)
        transportConfiguration.qps = plugboardConfig.client.rateLimit.qps
        transportConfiguration.burst = plugboardConfig.client.rateLimit.burst
        let transport = try Transport(transportConfiguration)
        let pluginHost = PluginHost(config: plugboardConfig, transport: transport, logger: logger, shutdownGrace: .seconds(host.shutdownGrace))
        let observability = try ObservabilityOptions.makeServer(address: metricsAddress, registry: registry,
                                                                plugins: plugboardConfig.plugins.map(\.name),
                                                                readiness: { pluginHost.readiness() }, logger: logger)
        // Listed first, so that it stops last: /metrics stays up while the host drains.
        let group = ServiceGroup(configuration: .init(services: [observability, pluginHost], gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        do {
            try await group.run()
        } catch {
            try? await transport.shutdown()
            throw HostFailure.report(error)
        }
        try await transport.shutdown()
    }
}

/// How `run` and `dev` end on the host's known failures: the error's own message on stderr and an exit
/// status, instead of ArgumentParser's generic report.
enum HostFailure {
    /// 2: the configuration does not fit the cluster (unknown kinds). 1: the metrics address cannot be
    /// served, or the leader lease was lost (exit, as client-go's controllers do: the restarted process
    /// comes back as a standby). Other errors are returned unchanged.
    static func report(_ error: any Error) -> any Error {
        let status: Int32
        switch error {
        case is ResolutionError: status = 2
        case is ObservabilityServer.ListenError, is LeaderElector.LostLeadership: status = 1
        default: return error
        }
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        return ExitCode(status)
    }
}

/// Options of the host shared by `run` and `dev`.
struct HostOptions: ParsableArguments {
    @Option(name: .customLong("log-format"), help: "text or json.")
    var logFormat: String = "text"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("shutdown-grace"), help: "Seconds reconciles in flight get to finish after SIGTERM.")
    var shutdownGrace: Int = 30

    func validate() throws {
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json, got \"\(logFormat)\"") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level: unknown level \"\(logLevel)\"; use trace, debug, info, notice, warning, error or critical")
        }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must be 0 or more seconds") }
    }

    var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }

    var logHandlerFactory: @Sendable (String) -> any LogHandler { makeLogHandlerFactory(format: logFormat, level: level) }

    func makeLogger() -> Logger {
        var logger = Logger(label: "plugboard")
        logger.logLevel = level
        return logger
    }
}

/// Log handlers writing text or JSON lines to stderr at `level`.
func makeLogHandlerFactory(format: String, level: Logger.Level) -> @Sendable (String) -> any LogHandler {
    let json = format == "json"
    return { label in
        var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// One JSON object per line on stderr: time, level, label, message, metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        var line = "{\"time\":\(Self.quote(Self.now())),\"level\":\(Self.quote(event.level.rawValue)),\"logger\":\(Self.quote(label)),\"msg\":\(Self.quote("\(event.message)"))"
        for key in fields.keys.sorted() { line += ",\(Self.quote(key)):\(Self.quote(fields[key]!))" }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    /// A JSON string literal, escaped by the same serializer as every other JSON the host writes.
    static func quote(_ text: String) -> String { JSON.string(text).serializedString() }
}
