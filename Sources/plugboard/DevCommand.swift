import ArgumentParser
import DevAPIServer
import Foundation
import KubeClient
import Logging
import Observability
import PluginConfig
import PluginHost
import ServiceLifecycle

/// `plugboard dev`: the embedded dev API server, with a kubeconfig for kubectl.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the plugin host against an in-memory Kubernetes API server.",
        discussion: """
            Starts the dev API server (HTTPS with a CA made at start, bearer-token auth), writes a \
            kubeconfig for it and prints its path, creates the objects of each --manifest, then runs \
            the plugin host with --config. Without --config, the example configuration \
            plugins/plugboard-dev.yaml is used when it exists under the current directory, with the \
            manifests its examples need. --api-only serves the API alone. Ctrl-C stops everything.
            """
    )

    static let exampleConfig = "plugins/plugboard-dev.yaml"
    static let exampleManifests = ["plugins/node/webapp/crd.yaml", "plugins/node/webapp/sample.yaml",
                                   "plugins/python/configmap-propagator/samples.yaml"]

    @Option(name: .customLong("config"), help: "The plugin host's config file (default: \(DevCommand.exampleConfig) if it exists).")
    var config: String?

    @Option(name: .customLong("manifest"), help: "YAML file of objects to create before the host starts (CRDs, samples); repeatable.")
    var manifests: [String] = []

    @Option(name: .customLong("shutdown-grace"), help: "Seconds reconciles in flight get to finish after SIGTERM.")
    var shutdownGrace: Int = 30

    @Option(name: .customLong("log-format"), help: "text or json.")
    var logFormat: String = "text"

    @Option(name: .customLong("listen"), help: "Address to listen on, HOST:PORT. Port 0 picks a free port.")
    var listen: String = "127.0.0.1:0"

    @Option(name: .customLong("metrics-address"),
            help: "Where the host serves /metrics, /healthz, /readyz and the dashboard, HOST:PORT (port 0 picks a free one; default \(ObservabilityOptions.defaultAddress), or a free port if that is taken). Not with --api-only.")
    var metricsAddress: String?

    @Option(name: .customLong("kubeconfig-out"), help: "Where to write the kubeconfig.")
    var kubeconfigOut: String = DevCommand.defaultKubeconfigPath

    @Flag(name: .customLong("api-only"), help: "Serve the API without the plugin host.")
    var apiOnly = false

    @Flag(name: .customLong("insecure-http"), help: "Serve plain HTTP instead of HTTPS.")
    var insecureHTTP = false

    @Flag(name: .customLong("no-auth"), help: "Accept requests without credentials.")
    var noAuth = false

    @Option(name: .customLong("tls-cert-file"), help: "PEM serving certificate chain to use instead of one from a generated CA.")
    var tlsCertFile: String?

    @Option(name: .customLong("tls-key-file"), help: "PEM private key of --tls-cert-file.")
    var tlsKeyFile: String?

    @Option(name: .customLong("client-ca-file"), help: "PEM CA whose client certificates are accepted (user = common name), besides the token.")
    var clientCAFile: String?

    @Option(name: .customLong("bookmark-interval"), help: "Seconds between watch bookmarks.")
    var bookmarkInterval: Int = 10

    @Option(name: .customLong("history"), help: "Events kept for resuming watches; older resourceVersions get 410 Gone.")
    var history: Int = 10_000

    @Flag(name: .customLong("no-watch-list"), help: "Refuse streaming lists (sendInitialEvents), as a server without the WatchList feature does.")
    var noWatchList = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    static var defaultKubeconfigPath: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.currentDirectoryPath
        return home + "/.plugboard/dev/kubeconfig"
    }

    func validate() throws {
        _ = try ListenAddress(listen)
        if let metricsAddress { _ = try ListenAddress(metricsAddress, flag: "--metrics-address") }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json, got \"\(logFormat)\"") }
        if apiOnly && config != nil { throw ValidationError("--api-only cannot be combined with --config") }
        if apiOnly && metricsAddress != nil {
            throw ValidationError("--api-only cannot be combined with --metrics-address: without the plugin host nothing serves metrics")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level: unknown level \"\(logLevel)\"; use trace, debug, info, notice, warning, error or critical")
        }
        guard bookmarkInterval >= 1 else { throw ValidationError("--bookmark-interval must be at least 1 second") }
        guard history >= 1 else { throw ValidationError("--history must be at least 1 event") }
        if (tlsCertFile == nil) != (tlsKeyFile == nil) {
            throw ValidationError("--tls-cert-file and --tls-key-file go together")
        }
        if noAuth && clientCAFile != nil {
            throw ValidationError("--no-auth cannot be combined with --client-ca-file")
        }
        if insecureHTTP && (tlsCertFile != nil || clientCAFile != nil) {
            throw ValidationError("--insecure-http cannot be combined with --tls-cert-file or --client-ca-file")
        }
    }

    /// Reads a PEM file, with an error that names the flag and the file.
    func readPEM(_ path: String, flag: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(flag): cannot read \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.contains("-----BEGIN ") else { throw ValidationError("\(flag): \(path) is not a PEM file") }
        return text
    }

    func run() async throws {
        let address = try ListenAddress(listen)
        LoggingSystem.bootstrap(makeLogHandlerFactory(format: logFormat, level: Logger.Level(rawValue: logLevel)!))
        // Before anything makes a metric: handles made earlier would go nowhere.
        let registry = PlugboardMetricsFactory.bootstrap(version: PlugboardVersion.current)
        var logger = Logger(label: "plugboard.dev")
        logger.logLevel = Logger.Level(rawValue: logLevel)!
        logger.debug("allocator", metadata: ["tuning": "\(PlugboardMain.allocatorTuning)"])
        var config = DevServer.Configuration()
        config.host = address.host
        config.port = address.port
        config.tls = insecureHTTP ? .none : .generated
        if let tlsCertFile, let tlsKeyFile {
            config.tls = .provided(certificateChainPEM: try readPEM(tlsCertFile, flag: "--tls-cert-file"),
                                   privateKeyPEM: try readPEM(tlsKeyFile, flag: "--tls-key-file"))
        }
        config.bookmarkInterval = .seconds(bookmarkInterval)
        config.store.historyLimit = history
        config.store.watchList = !noWatchList
        let token = noAuth ? nil : DevKubeconfig.makeToken()
        if let token {
            config.authentication = Authentication(tokens: [token: "plugboard-dev-admin"],
                                                   clientCAPEM: try clientCAFile.map { try readPEM($0, flag: "--client-ca-file") })
        }
        // The host's config is checked before anything starts: a bad file never starts a server.
        var hostConfig: PlugboardConfig?
        var manifestFiles = manifests
        if !apiOnly {
            let path = self.config ?? (FileManager.default.fileExists(atPath: Self.exampleConfig) ? Self.exampleConfig : nil)
            if self.config == nil && path != nil && manifests.isEmpty {
                manifestFiles = Self.exampleManifests.filter { FileManager.default.fileExists(atPath: $0) }
            }
            if let path {
                do {
                    hostConfig = try PlugboardConfig.load(path: path)
                } catch {
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    throw ExitCode(2)
                }
            }
        }
        let manifestTexts = try manifestFiles.map { file -> (String, String) in
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("--manifest: cannot read \(file)") }
            return (file, String(decoding: data, as: UTF8.self))
        }
        let server = try DevServer(configuration: config, logger: logger)
        var serverCA = server.certificateAuthority?.certificatePEM
        if case .provided(let chain, _) = config.tls { serverCA = chain }
        let slot = HostSlot()
        let devHost = DevHost(server: server, caPEM: serverCA, token: token, config: hostConfig, manifests: manifestTexts, logger: logger,
                              shutdownGrace: .seconds(shutdownGrace), slot: slot)
        // The observability server runs with the host, and is listed first so that it stops last.
        let observability = try hostConfig.map { config in
            try ObservabilityOptions.makeServer(address: metricsAddress ?? ObservabilityOptions.defaultAddress,
                                                fallbackToFreePort: metricsAddress == nil, registry: registry, plugins: config.plugins.map(\.name),
                                                readiness: { slot.readiness() }, logger: logger)
        }
        let services: [any Service] = (observability.map { [$0] } ?? []) + [server, devHost]
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let url = try await server.ready()
                // With a provided certificate the kubeconfig carries that chain as the CA to trust.
                var caPEM = server.certificateAuthority?.certificatePEM
                if case .provided(let chain, _) = config.tls { caPEM = chain }
                let kubeconfig = DevKubeconfig.render(server: url, caPEM: caPEM, token: token)
                try DevKubeconfig.write(kubeconfig, to: kubeconfigOut)
                var banner = "Dev API server: \(url)\n"
                if let observability {
                    banner += "Dashboard:      http://\(try await observability.ready())/\n"
                }
                banner += """
                    Kubeconfig:     \(kubeconfigOut)
                    Try:            KUBECONFIG=\(kubeconfigOut) kubectl get namespaces

                    """
                if let hostConfig {
                    banner += "Plugin host:    \(hostConfig.plugins.map(\.name).joined(separator: ", ")) (config \(hostConfig.file))\n"
                } else if !apiOnly {
                    banner += "Plugin host:    not started (no --config, and no \(Self.exampleConfig) here)\n"
                }
                // Unbuffered, so that scripts reading the address see it at once.
                FileHandle.standardOutput.write(Data(banner.utf8))
                try await tasks.waitForAll()
            }
        } catch {
            throw HostFailure.report(error)
        }
    }
}

/// The plugin host of `plugboard dev`: waits for the dev server, creates the
/// manifests' objects, then runs the host against it. Listed after the server
/// in the service group, so it is stopped first on shutdown.
struct DevHost: Service {
    let server: DevServer
    let caPEM: String?
    let token: String?
    let config: PlugboardConfig?
    let manifests: [(String, String)]
    let logger: Logger
    let shutdownGrace: Duration
    let slot: HostSlot

    func run() async throws {
        let url = try await server.ready()
        for (file, text) in manifests {
            let loaded = try server.store.load(manifests: text, file: file)
            logger.info("manifest loaded", metadata: ["file": "\(file)", "objects": "\(loaded.joined(separator: ","))"])
        }
        guard let config else {
            try await gracefulShutdown()
            return
        }
        var transportConfiguration = TransportConfiguration(server: url)
        transportConfiguration.certificateAuthorityPEM = caPEM
        if let token { transportConfiguration.credentials = .fixed(.bearer(token)) }
        transportConfiguration.qps = config.client.rateLimit.qps
        transportConfiguration.burst = config.client.rateLimit.burst
        let transport = try Transport(transportConfiguration)
        let host = PluginHost(config: config, transport: transport, logger: logger, shutdownGrace: shutdownGrace)
        slot.set(host)
        do {
            try await host.run()
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }
}

/// HOST:PORT, with IPv6 hosts in brackets.
struct ListenAddress {
    var host: String
    var port: Int

    init(_ text: String, flag: String = "--listen") throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw ValidationError("\(flag): \"\(text)\" is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("\(flag): \"\(text)\" has no host") }
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(flag): \"\(text)\" has no valid port (0 to 65535)")
        }
        self.host = host
        self.port = port
    }
}
