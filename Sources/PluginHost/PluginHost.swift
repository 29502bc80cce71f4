import Foundation
import AsyncHTTPClient
import Informers
import KubeClient
import Logging
import Metrics
import PluginConfig
import ServiceLifecycle
import Synchronization

/// The host: resolves the config against the cluster, starts supervised
/// plugins, runs the shared informers and one controller per plugin.
///
/// Graceful shutdown (SIGTERM): the controllers stop taking keys and the
/// reconciles in flight get `shutdownGrace` to finish; then supervised plugins
/// are stopped and the informers end.
public final class PluginHost: Service, Sendable {
    public let config: PlugboardConfig
    public let transport: Transport
    public let logger: Logger
    public let shutdownGrace: Duration
    public let reflectorConfiguration: ReflectorConfiguration
    private let state = Mutex<State>(State())
    private let readyGauge = Gauge(label: PluginHostMetricNames.ready)

    struct State {
        var controllers: [PluginController] = []
        var processes: [String: PluginProcess] = [:]
        var factory: SharedInformerFactory?
        var elector: LeaderElector?
        var ready = false
        var readyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public init(config: PlugboardConfig, transport: Transport, logger: Logger = Logger(label: "plugboard.host"),
                shutdownGrace: Duration = .seconds(30), reflectorConfiguration: ReflectorConfiguration = ReflectorConfiguration()) {
        self.config = config
        self.transport = transport
        self.logger = logger
        self.shutdownGrace = shutdownGrace
        self.reflectorConfiguration = reflectorConfiguration
        readyGauge.record(0)
    }

    /// What `/readyz` answers: ready once every informer has synced and (with
    /// leader election on) the lease has been read; otherwise the reasons.
    public func readiness() -> Readiness {
        let (ready, factory) = state.withLock { ($0.ready, $0.factory) }
        if ready { return Readiness(ready: true, reasons: []) }
        guard let factory else { return Readiness(ready: false, reasons: ["resolving the configuration against the cluster"]) }
        var reasons = factory.all.filter { !$0.hasSynced }.map { "informer \($0.key.resource.groupVersion)/\($0.key.resource.resource) in \($0.key.namespace.map { "namespace \($0)" } ?? "all namespaces") has not synced" }
        if let elector = state.withLock({ $0.elector }), elector.state == .unknown {
            reasons.append("leader election: lease \(elector.lease) not read yet")
        }
        if reasons.isEmpty { reasons = ["starting the workers"] }
        return Readiness(ready: false, reasons: reasons.sorted())
    }

    /// The controllers, once `run` has resolved the config.
    public var controllers: [PluginController] { state.withLock { $0.controllers } }
    /// The supervised plugin processes by plugin name.
    public var processes: [String: PluginProcess] { state.withLock { $0.processes } }
    public var informerFactory: SharedInformerFactory? { state.withLock { $0.factory } }
    /// The leader elector, once `run` has started with leader election on.
    public var leaderElector: LeaderElector? { state.withLock { $0.elector } }

    /// Whether every informer has synced and every controller runs.
    public var isReady: Bool { state.withLock { $0.ready } }

    /// Returns once the host is ready (see `readiness()`).
    public func waitUntilReady() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.ready { return true }
                state.readyWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    public func run() async throws {
        let plugins = try await ConfigResolver(discovery: Discovery(transport: transport)).resolve(config)
        let factory = SharedInformerFactory(transport: transport, configuration: reflectorConfiguration, logger: logger)
        let probeClient = HTTPClient(eventLoopGroupProvider: .singleton)
        var madeProcesses: [String: PluginProcess] = [:]
        var madeClients: [PluginClient] = []
        var madeControllers: [PluginController] = []
        for plugin in plugins {
            var generatedToken: String?
            let url: @Sendable () -> String
            switch plugin.spec.endpoint {
            case .url(let endpoint):
                let text = endpoint.url.absoluteString
                url = { text }
            case .command(var command):
                var processLogger = logger
                processLogger[metadataKey: "plugin"] = "\(plugin.name)"
                if plugin.spec.auth == nil && command.env["PLUGBOARD_TOKEN"] == nil {
                    // A token made for this run: the plugin (through PLUGBOARD_TOKEN) can
                    // refuse calls that do not come from its host.
                    let token = Self.makeToken()
                    generatedToken = token
                    command = PluginCommand(path: command.path, args: command.args, env: command.env.merging(["PLUGBOARD_TOKEN": token]) { $1 },
                                            workingDirectory: command.workingDirectory, portEnv: command.portEnv,
                                            reconcilePath: command.reconcilePath, healthPath: command.healthPath,
                                            startTimeout: command.startTimeout, restartBackoff: command.restartBackoff)
                }
                let process = PluginProcess(name: plugin.name, command: command, logger: processLogger, httpClient: probeClient,
                                            stopGracePeriod: shutdownGrace)
                madeProcesses[plugin.name] = process
                let path = command.reconcilePath
                url = { process.baseURL + path }
            }
            let client = try PluginClient(spec: plugin.spec, reconcileURL: url, bearerToken: generatedToken)
            madeClients.append(client)
            madeControllers.append(PluginController(plugin: plugin, factory: factory, transport: transport, client: client, logger: logger))
        }
        for controller in madeControllers { await controller.registerHandlers() }
        let processes = madeProcesses, controllers = madeControllers, clients = madeClients
        let elector = config.leaderElection.enabled ? LeaderElector(settings: config.leaderElection, transport: transport, logger: logger) : nil
        state.withLock {
            $0.controllers = controllers
            $0.processes = processes
            $0.factory = factory
            $0.elector = elector
        }
        logger.info("plugin host starting", metadata: ["plugins": "\(plugins.map(\.name).joined(separator: ","))",
                                                      "informers": "\(factory.all.count)"])

        // Informers and supervised plugins run until the controllers are done.
        let background = Task {
            await withTaskGroup(of: Void.self) { group in
                for informer in factory.all { group.addTask { await informer.run() } }
                for process in processes.values { group.addTask { await process.run() } }
            }
        }
        let workers = Task {
            await withTaskGroup(of: Void.self) { group in
                for controller in controllers {
                    group.addTask {
                        // Like controller-runtime: no reconcile before the caches are full,
                        // and none before a supervised plugin answers its health check.
                        await Self.waitForSync(controller.informers)
                        if let process = processes[controller.plugin.name] { try? await process.waitUntilUp() }
                        // Every replica keeps its caches warm; only the leader reconciles.
                        if let elector { try? await elector.waitUntilLeading() }
                        if Task.isCancelled { return }
                        await controller.run()
                    }
                }
                group.addTask { [self] in
                    await Self.waitForSync(controllers.flatMap(\.informers))
                    while let elector, elector.state == .unknown, !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                    if !Task.isCancelled { markReady() }
                }
            }
        }
        // The elector runs until the reconciles have ended (then a leader gives the lease up); losing
        // the lease ends the reconciles at once, and `run` then throws.
        let lost = Mutex<LeaderElector.LostLeadership?>(nil)
        let election = Task {
            guard let elector else { return }
            do {
                try await elector.run()
            } catch let error as LeaderElector.LostLeadership {
                lost.withLock { $0 = error }
                for controller in controllers { controller.stop() }
                workers.cancel()
            } catch {}
        }
        let grace = shutdownGrace
        let log = logger
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await workers.value
            } onCancel: {
                workers.cancel()
            }
        } onGracefulShutdown: {
            log.info("stopping: no new reconciles; waiting for those in flight", metadata: ["grace": "\(grace)"])
            for controller in controllers { controller.stop() }
            // A standby has nothing in flight: its workers only wait for the lease.
            if let elector, !elector.isLeader { workers.cancel() }
            Task {
                try? await Task.sleep(for: grace)
                workers.cancel()
            }
        }
        logger.debug("reconciles ended; stopping informers and plugin processes")
        election.cancel()
        await election.value
        background.cancel()
        await background.value
        logger.debug("informers and plugin processes stopped")
        for client in clients { try? await client.shutdown() }
        try? await probeClient.shutdown()
        if let error = lost.withLock({ $0 }) {
            logger.error("plugin host stopped: \(error)")
            throw error
        }
        logger.info("plugin host stopped")
    }

    /// 32 random bytes in hex.
    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Waits for informers to sync, or for cancellation (a shutdown before the
    /// cluster answered must not hang).
    static func waitForSync(_ informers: [SharedInformer]) async {
        while !Task.isCancelled && !informers.allSatisfy(\.hasSynced) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func markReady() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.ready = true
            readyGauge.record(1)
            defer { state.readyWaiters = [] }
            return state.readyWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Whether the host is ready, and why not.
public struct Readiness: Sendable, Equatable {
    public var ready: Bool
    public var reasons: [String]

    public init(ready: Bool, reasons: [String]) {
        self.ready = ready
        self.reasons = reasons
    }
}
