import AsyncHTTPClient
import DevAPIServer
import Foundation
import Hummingbird
import KubeClient
import KubeCore
import Logging
import Metrics
import PluginConfig
import PluginHost
import Prometheus
import ServiceLifecycle
import Testing
@testable import Observability

/// swift-metrics is bootstrapped once per process; every test that needs the
/// global system shares this registry (and uses its own plugin names).
enum GlobalMetrics {
    static let registry = PlugboardMetricsFactory.bootstrap(version: "test")
}

/// A plugin on loopback: answers `{}`, or 500 for objects named `bad-*`.
func startPlugin() async throws -> (url: String, stop: @Sendable () async -> Void) {
    let router = Router()
    router.post("/reconcile") { request, context -> Response in
        let body = try await request.body.collect(upTo: 1 << 20)
        let text = String(buffer: body)
        if text.contains("\"name\":\"bad-") {
            return Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "no")))
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
    }
    let bound = AsyncStream<Int>.makeStream()
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                          onServerRunning: { channel in
                              bound.continuation.yield(channel.localAddress?.port ?? 0)
                          })
    let running = Task { try await app.runService(gracefulShutdownSignals: []) }
    var iterator = bound.stream.makeAsyncIterator()
    let port = await iterator.next() ?? 0
    return ("http://127.0.0.1:\(port)/reconcile", { running.cancel(); _ = try? await running.value })
}

func get(_ client: HTTPClient, _ url: String) async throws -> (status: Int, headers: [String: String], body: String) {
    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    var headers: [String: String] = [:]
    for header in response.headers { headers[header.name.lowercased()] = header.value }
    return (Int(response.status.code), headers, String(buffer: body))
}

func waitFor(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for \(what)")
    throw CancellationError()
}

func value(_ samples: [ExpositionSample], _ name: String, _ labels: [String: String]) -> Double? {
    samples.first { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
}

@Suite struct HostServerTests {
    @Test func aRunningHostIsSeenThroughMetricsHealthReadinessAndTheDashboard() async throws {
        let registry = GlobalMetrics.registry
        var devConfiguration = DevServer.Configuration()
        devConfiguration.tls = .none
        let dev = try DevServer(configuration: devConfiguration)
        let plugin = try await startPlugin()
        // Names of its own: other tests' informers and queues share the process's registry.
        let name = "obs-\(UInt32.random(in: 0...UInt32.max))"
        let config = try PlugboardConfig.parse(yaml: """
            apiVersion: plugboard.dev/v1alpha1
            kind: PlugboardConfig
            plugins:
              - name: \(name)
                endpoint: {url: "\(plugin.url)"}
                watch: {apiVersion: v1, kind: ConfigMap, namespaces: [\(name)]}
                rateLimits: {backoff: {base: 50ms, max: 200ms}}
            """)
        let devGroup = ServiceGroup(configuration: .init(services: [dev], logger: Logger(label: "test")))
        let devRunning = Task { try await devGroup.run() }
        let transport = try Transport(TransportConfiguration(server: try await dev.ready()))
        let namespaces = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "namespaces"),
                                        namespace: nil)
        _ = try await namespaces.create(Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(name)"}}"#.utf8))
        let configMaps = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"),
                                        namespace: name)
        for object in ["good-1", "good-2", "bad-1"] {
            _ = try await configMaps.create(Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(object)"}}"#.utf8))
        }

        let host = PluginHost(config: config, transport: transport, logger: Logger(label: "test"), shutdownGrace: .seconds(1))
        let sampler = DashboardSampler(registry: registry, plugins: [name], interval: .milliseconds(200))
        let server = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: registry, sampler: sampler,
                                         readiness: { host.readiness() }, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [server, host], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let address = try await server.ready()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            #expect(address.hasPrefix("127.0.0.1:"))
            let health = try await get(client, "http://\(address)/healthz")
            #expect(health.status == 200 && health.body == "ok\n")

            try await waitFor("readiness") { try await get(client, "http://\(address)/readyz").status == 200 }
            #expect(host.readiness().ready)

            func metrics() async throws -> (text: String, samples: [ExpositionSample]) {
                let response = try await get(client, "http://\(address)/metrics")
                #expect(response.status == 200)
                #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
                return (response.body, Exposition.parse(Array(response.body.utf8)))
            }
            try await waitFor("two successful reconciles and a failing one") {
                let samples = try await metrics().samples
                return value(samples, "plugboard_reconciles_total", ["plugin": name, "result": "success"]) == 2
                    && (value(samples, "plugboard_reconciles_total", ["plugin": name, "result": "error"]) ?? 0) >= 2
            }
            let (text, samples) = try await metrics()
            // Every family the host exports is in the catalog, with its help text and type.
            let families = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
            for family in families {
                let definition = try #require(MetricCatalog.byName[family], "\(family) is not in the catalog")
                #expect(text.contains("# HELP \(family) \(definition.help)\n"))
                #expect(text.contains("# TYPE \(family) \(definition.kind.rawValue)\n"))
            }
            for expected in ["workqueue_depth", "workqueue_adds_total", "workqueue_queue_duration_seconds", "workqueue_retries_total",
                             "plugboard_plugin_calls_total", "plugboard_plugin_call_duration_seconds", "plugboard_reconciles_total",
                             "plugboard_informer_objects", "plugboard_informer_synced", "plugboard_informer_lists_total",
                             "plugboard_api_requests_total", "plugboard_api_request_duration_seconds", "plugboard_ready", "plugboard_build_info"] {
                #expect(families.contains(expected), "\(expected) is not exported")
            }
            let informer = ["resource": "v1/configmaps", "namespace": name, "selector": ""]
            #expect(value(samples, "plugboard_informer_objects", informer) == 3)
            #expect(value(samples, "plugboard_informer_synced", informer) == 1)
            #expect(value(samples, "plugboard_informer_lists_total", informer.merging(["reason": "initial"]) { $1 }) == 1)
            #expect(value(samples, "plugboard_plugin_calls_total", ["plugin": name, "result": "error"])! >= 2)
            #expect((value(samples, "workqueue_retries_total", ["name": name]) ?? 0) >= 2)
            #expect((value(samples, "plugboard_api_requests_total", ["verb": "WATCH", "code": "200"]) ?? 0) >= 1)
            #expect((value(samples, "plugboard_api_requests_total", ["verb": "POST", "code": "201"]) ?? 0) >= 4)
            #expect(value(samples, "plugboard_ready", [:]) == 1)

            // The dashboard's numbers are the metrics' numbers.
            sampler.sample()
            let json = try await get(client, "http://\(address)/dashboard.json")
            #expect(json.headers["content-type"] == "application/json")
            let document = try JSONDecoder().decode(DashboardDocument.self, from: Data(json.body.utf8))
            #expect(document.ready)
            let shown = try #require(document.plugins.first { $0.name == name })
            #expect(shown.totals["reconciles"]! >= 3)
            #expect(shown.errors["error"]! >= 2)
            #expect(shown.process == nil)
            let cache = try #require(document.informers.first { $0.resource == "v1/configmaps" && $0.namespace == name })
            #expect(cache.objects == 3 && cache.synced && cache.lists >= 1)

            let page = try await get(client, "http://\(address)/")
            #expect(page.status == 200)
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true)
            #expect(page.body.lowercased().hasPrefix("<!doctype html>"))
            #expect(page.body.contains("dashboard.json"))
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
        await plugin.stop()
        try await transport.shutdown()
        await devGroup.triggerGracefulShutdown()
        try await devRunning.value
    }

    @Test func readinessNamesTheInformersThatHaveNotSynced() async throws {
        _ = GlobalMetrics.registry
        // A server that never answers a list: nothing syncs.
        let config = try PlugboardConfig.parse(yaml: """
            apiVersion: plugboard.dev/v1alpha1
            kind: PlugboardConfig
            plugins:
              - name: never-ready
                endpoint: {url: "http://127.0.0.1:9/reconcile"}
                watch: {apiVersion: v1, kind: ConfigMap}
            """)
        let transport = try Transport(TransportConfiguration(server: "http://127.0.0.1:9"))
        let host = PluginHost(config: config, transport: transport, logger: Logger(label: "test"))
        #expect(host.readiness() == Readiness(ready: false, reasons: ["resolving the configuration against the cluster"]))
        try await transport.shutdown()
        let registry = MetricsRegistry()
        let server = ObservabilityServer(configuration: .init(host: "127.0.0.1", port: 0), registry: registry,
                                         sampler: DashboardSampler(registry: registry),
                                         readiness: { Readiness(ready: false, reasons: ["informer v1/configmaps in all namespaces has not synced"]) },
                                         logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let address = try await server.ready()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let ready = try await get(client, "http://\(address)/readyz")
        #expect(ready.status == 503)
        #expect(ready.body == "not ready:\n- informer v1/configmaps in all namespaces has not synced\n")
        let missing = try await get(client, "http://\(address)/nothing-here")
        #expect(missing.status == 404)
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func aTakenPortIsAnErrorUnlessAFreePortMayBeUsedInstead() async throws {
        let registry = MetricsRegistry()
        func server(port: Int, fallback: Bool) -> ObservabilityServer {
            ObservabilityServer(configuration: .init(host: "127.0.0.1", port: port, fallbackToFreePort: fallback), registry: registry,
                                sampler: DashboardSampler(registry: registry), readiness: { Readiness(ready: true, reasons: []) },
                                logger: Logger(label: "test"))
        }
        let first = server(port: 0, fallback: false)
        let group = ServiceGroup(configuration: .init(services: [first], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let taken = try await first.ready()
        let port = Int(taken.split(separator: ":").last!)!

        let strict = server(port: port, fallback: false)
        let error = await #expect(throws: ObservabilityServer.ListenError.self) { try await strict.run() }
        #expect(error?.description.hasPrefix("cannot serve metrics, health and the dashboard on 127.0.0.1:\(port) (--metrics-address): ") == true)

        let lenient = server(port: port, fallback: true)
        let second = ServiceGroup(configuration: .init(services: [lenient], logger: Logger(label: "test")))
        let secondRunning = Task { try await second.run() }
        let other = try await lenient.ready()
        #expect(other != taken && other.hasPrefix("127.0.0.1:"))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        #expect(try await get(client, "http://\(other)/healthz").status == 200)
        try await client.shutdown()
        await second.triggerGracefulShutdown()
        try await secondRunning.value
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
