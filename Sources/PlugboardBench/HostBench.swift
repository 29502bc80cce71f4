import ArgumentParser
import AsyncHTTPClient
import Foundation
import KubeClient
import Logging
import Metrics
import Observability
import PluginConfig
import PluginHost
import Synchronization

/// End-to-end reconciles through the plugin host: a dev API server process
/// with N ConfigMaps, the C no-op plugin (plugins/c/noop) as the plugin, and
/// the host in this process. Reports reconciles per second from synced until
/// every object has been reconciled once, beside the plugin's own round-trip
/// limit measured with wrk (when installed) on as many connections as the host
/// has workers; then the delay from an object's update at the server to the
/// plugin call, at a steady rate of changes.
struct HostBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Plugin host: reconciles per second with a no-op C plugin, vs wrk; watch-event-to-call latency.")

    @Option(help: "ConfigMaps to reconcile.") var objects = 10_000
    @Option(help: "Workers of the plugin.") var workers = 8
    @Option(help: "Timed runs of the initial reconcile.") var runs = 3
    @Option(help: "Changes per second for the latency run.") var rate = 1_000.0
    @Option(help: "Changes in the latency run.") var changes = 10_000
    @Option(help: "Metrics backend: prometheus (as plugboard run has it) or none.") var metrics = "prometheus"

    func validate() throws {
        guard ["prometheus", "none"].contains(metrics) else { throw ValidationError("--metrics must be prometheus or none") }
    }

    func run() async throws {
        // What `plugboard run` records into (or nothing), with the one counter the benchmark reads tapped.
        let backend: any MetricsFactory = metrics == "prometheus" ? PlugboardMetricsFactory() : NOOPMetricsHandler.instance
        MetricsSystem.bootstrap(ReconcileCounter(backend: backend))
        let plugin = try await NoopPlugin.start()
        do {
            try await measure(plugin)
        } catch {
            await plugin.stop()
            throw error
        }
        await plugin.stop()
    }

    func measure(_ plugin: NoopPlugin) async throws {
        print("host objects=\(objects) workers=\(workers) runs=\(runs) metrics=\(metrics)")
        if let limit = try wrkLimit(url: plugin.url + "/reconcile") {
            print(String(format: "  plugin round trips alone (wrk, %d connections, 1.5 KB bodies): %.0f requests/s", workers, limit))
        } else {
            print("  wrk is not installed (apt-get install wrk): no round-trip limit measured")
        }
        var samples = Samples()
        var latencies: [Double] = []
        for run in 0..<runs {
            let server = try BenchChild.start(["devserver-serve", "--objects", "\(objects)", "--size", "1024"])
            defer { server.stop() }
            let transport = try Transport(TransportConfiguration(server: server.fields["url"] ?? ""))
            let config = try PlugboardConfig.parse(yaml: """
                apiVersion: plugboard.dev/v1alpha1
                kind: PlugboardConfig
                plugins:
                  - name: bench
                    endpoint: {url: "\(plugin.url)/reconcile"}
                    watch: {apiVersion: v1, kind: ConfigMap, labelSelector: "app=bench"}
                    workers: \(workers)
                    rateLimits:
                      dispatch: {qps: 1000000, burst: 1000000}
                """, file: "bench.yaml")
            var logger = Logger(label: "bench")
            logger.logLevel = .warning
            let host = PluginHost(config: config, transport: transport, logger: logger, shutdownGrace: .seconds(1))
            let before = ReconcileCounter.count
            let running = Task { try await host.run() }
            progress("run \(run + 1): host started")
            await host.waitUntilReady()
            progress("run \(run + 1): synced")
            let start = ContinuousClock.now
            // Woken by the reconcile that reaches the count: polling would take CPU from the host.
            await ReconcileCounter.tally.wait(until: before + objects)
            samples.seconds.append(elapsed(start))
            progress("run \(run + 1): \(objects) reconciled in \(elapsed(start)) s")
            if run == runs - 1 {
                // Latency: paced updates, each stamped by the server; the plugin records the delay.
                _ = try await plugin.latencies()
                let target = ReconcileCounter.count + changes
                server.send("pace \(changes) \(rate)")
                let deadline = ContinuousClock.now + .seconds(Double(changes) / rate + 30)
                while ReconcileCounter.count < target && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
                progress("latency run: \(ReconcileCounter.count - (target - changes)) of \(changes) changes reconciled")
                latencies = try await plugin.latencies()
            }
            running.cancel()
            _ = try? await running.value
            try await transport.shutdown()
        }
        print(String(format: "  initial reconcile of every object: min %.2f s, median %.2f s", samples.min, samples.median))
        print(String(format: "  at median: %.0f reconciles/s (best %.0f/s)", Double(objects) / samples.median, Double(objects) / samples.min))
        if !latencies.isEmpty {
            let sorted = latencies.sorted()
            func quantile(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
            print(String(format: "  update at the server → plugin call, %d changes at %.0f/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                         sorted.count, rate, quantile(0.5) / 1000, quantile(0.99) / 1000, sorted.last! / 1000))
        }
    }

    /// The plugin's round-trip rate under wrk, with bodies of a typical request's size.
    func wrkLimit(url: String) throws -> Double? {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-bench-post.lua")
        try #"wrk.method = "POST"; wrk.body = string.rep("x", 1500); wrk.headers["Content-Type"] = "application/json""#
            .write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t1", "-c\(workers)", "-d5s", "-s", script.path, url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }) else { return nil }
        return Double(line.split(separator: " ").last ?? "")
    }
}

func progress(_ text: String) {
    FileHandle.standardError.write(Data("[bench] \(text)\n".utf8))
}

/// Passes every metric on to `backend` and counts `plugboard_reconciles_total` across its labels on the
/// way, so that the host records exactly what it records in `plugboard run` and the benchmark can poll the
/// count without scraping.
struct ReconcileCounter: MetricsFactory {
    static let tally = Tally()
    static var count: Int { tally.total.load(ordering: .relaxed) }

    final class Tally: Sendable {
        let total = Atomic<Int>(0)
        /// The count `wait(until:)` waits for (Int.max: none), and its waiter.
        private let target = Atomic<Int>(.max)
        private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)

        func add(_ amount: Int) {
            let count = total.wrappingAdd(amount, ordering: .relaxed).newValue
            if count >= target.load(ordering: .relaxed) { release() }
        }

        /// Returns once the count is at least `count`. One waiter at a time.
        func wait(until count: Int) async {
            await withCheckedContinuation { continuation in
                waiter.withLock { $0 = continuation }
                target.store(count, ordering: .relaxed)
                if total.load(ordering: .relaxed) >= count { release() }
            }
        }

        private func release() {
            guard let continuation = waiter.withLock({ waiting -> CheckedContinuation<Void, Never>? in
                defer { waiting = nil }
                return waiting
            }) else { return }
            target.store(.max, ordering: .relaxed)
            continuation.resume()
        }
    }

    final class Tapped: CounterHandler, Sendable {
        let inner: any CounterHandler
        init(_ inner: any CounterHandler) { self.inner = inner }
        func increment(by amount: Int64) {
            ReconcileCounter.tally.add(Int(amount))
            inner.increment(by: amount)
        }
        func reset() { inner.reset() }
    }

    let backend: any MetricsFactory

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        let counter = backend.makeCounter(label: label, dimensions: dimensions)
        return label == PluginHostMetricNames.reconciles ? Tapped(counter) : counter
    }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        backend.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        backend.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { backend.makeTimer(label: label, dimensions: dimensions) }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { backend.makeMeter(label: label, dimensions: dimensions) }
    func destroyCounter(_ handler: any CounterHandler) { backend.destroyCounter((handler as? Tapped)?.inner ?? handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { backend.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { backend.destroyRecorder(handler) }
    func destroyTimer(_ handler: any TimerHandler) { backend.destroyTimer(handler) }
    func destroyMeter(_ handler: any MeterHandler) { backend.destroyMeter(handler) }
}

/// plugins/c/noop, compiled with the system C compiler and started on a free port.
final class NoopPlugin {
    let process = Process()
    let url: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton)

    private init(binary: String, port: Int) throws {
        url = "http://127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: binary)
        process.environment = ["PLUGBOARD_PORT": String(port)]
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    static func start() async throws -> NoopPlugin {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../plugins/c/noop/noop.c").standardized.path
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-noop-\(getpid())").path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-O2", "-o", binary, source]
        try cc.run()
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else { throw ValidationError("cc could not build \(source)") }
        let port = try LoopbackPort.pickFree()
        let plugin = try NoopPlugin(binary: binary, port: port)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let response = try? await plugin.http.execute(HTTPClientRequest(url: plugin.url + "/healthz"), timeout: .seconds(1)),
               response.status == .ok { return plugin }
            try await Task.sleep(for: .milliseconds(20))
        }
        await plugin.stop()
        throw ValidationError("the noop plugin did not start")
    }

    func latencies() async throws -> [Double] {
        let response = try await http.execute(HTTPClientRequest(url: url + "/latencies"), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 26)
        return String(buffer: body).split(separator: "\n").compactMap { Double($0) }
    }

    func stop() async {
        // SIGKILL: a child of this process may start with SIGTERM blocked.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? await http.shutdown()
    }
}
