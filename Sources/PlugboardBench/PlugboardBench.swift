import ArgumentParser
import AsyncHTTPClient
import DevAPIServer
import Foundation
import Informers
import KubeCore
import NIOCore

/// The entry point: malloc is tuned as in `plugboard` (`AllocatorTuning`), so that the benchmarks
/// measure what the host does, then the command line is parsed and run.
@main
enum PlugboardBenchMain {
    static func main() async {
        AllocatorTuning.apply(environment: ProcessInfo.processInfo.environment)
        await PlugboardBench.main()
    }
}

/// Benchmarks that anyone can rerun; results go to docs/benchmarks.md.
struct PlugboardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugboard-bench",
        abstract: "Plugboard benchmarks. Build with -c release.",
        subcommands: [DevServerList.self, DevServerWatch.self, DecodeBench.self, InformerSyncBench.self, InformerWatchBench.self, HostBench.self, WorkQueueBench.self,
                      DevServerServe.self, InformerSyncOnce.self, InformerWatchOnce.self]
    )
}

/// Summary of repeated timings.
struct Samples {
    var seconds: [Double] = []
    var min: Double { seconds.min() ?? 0 }
    var median: Double {
        let s = seconds.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

func elapsed(_ start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// A dev server on plain HTTP on loopback, started for one benchmark.
func withPlainDevServer(historyLimit: Int = 10_000, _ body: (DevServer, String) async throws -> Void) async throws {
    var configuration = DevServer.Configuration()
    configuration.tls = .none
    configuration.store.historyLimit = historyLimit
    let server = try DevServer(configuration: configuration)
    let task = Task { try await server.run() }
    let url = try await server.ready()
    try await body(server, url)
    task.cancel()
}

/// A ConfigMap of about `size` bytes of JSON as stored (the server adds about
/// 510 bytes of metadata and managedFields to what is sent).
func configMap(_ i: Int, size: Int) -> JSON {
    let filler = String(repeating: "x", count: max(0, size - 512))
    return ["apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string("cm-\(i)"), "namespace": "default", "labels": ["app": "bench", "shard": .string(String(i % 10))]],
            "data": ["index": .string(String(i)), "payload": .string(filler)]]
}

struct DevServerList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devserver-list", abstract: "LIST of N ConfigMaps of about 1 KB over loopback HTTP.")

    @Option var objects = 10_000
    @Option var size = 1024
    @Option var runs = 10

    func run() async throws {
        try await withPlainDevServer { server, url in
            let info = server.store.resource(group: "", version: "v1", resource: "configmaps")!
            for i in 0..<objects {
                _ = try server.store.createForBenchmark(info, body: configMap(i, size: size))
            }
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var samples = Samples()
            var bytes = 0
            for run in 0...runs {
                let start = ContinuousClock.now
                let response = try await client.execute(HTTPClientRequest(url: url + "/api/v1/namespaces/default/configmaps"), timeout: .seconds(60))
                let body = try await response.body.collect(upTo: 1 << 30)
                let t = elapsed(start)
                bytes = body.readableBytes
                if run > 0 { samples.seconds.append(t) }  // the first run warms up
            }
            try await client.shutdown()
            let mb = Double(bytes) / 1_048_576
            print("devserver-list objects=\(objects) bytes=\(bytes) (\(bytes / objects) per object) runs=\(runs)")
            print(String(format: "  time to last byte: min %.1f ms, median %.1f ms", samples.min * 1000, samples.median * 1000))
            print(String(format: "  throughput at median: %.0f MB/s, %.0f objects/s", mb / samples.median, Double(objects) / samples.median))
        }
    }
}

struct DevServerWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devserver-watch", abstract: "N updates fanned out to W concurrent watchers over loopback HTTP.")

    @Option var updates = 10_000
    @Option var watchers = 10
    @Option var runs = 5

    func run() async throws {
        var samples = Samples()
        for _ in 0..<runs {
            try await withPlainDevServer(historyLimit: updates * 2) { server, url in
                let info = server.store.resource(group: "", version: "v1", resource: "configmaps")!
                _ = try server.store.createForBenchmark(info, body: configMap(0, size: 1024))
                let rv = server.store.currentResourceVersion
                // One connection per watcher: the pool's default soft limit is 8 per host.
                var clientConfiguration = HTTPClient.Configuration()
                clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = watchers + 1
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<watchers {
                        group.addTask {
                            let request = HTTPClientRequest(url: url + "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(rv)")
                            let response = try await client.execute(request, timeout: .seconds(120))
                            var lines = 0
                            for try await buffer in response.body {
                                lines += buffer.readableBytesView.reduce(0) { $0 + ($1 == 0x0a ? 1 : 0) }
                                if lines >= updates { break }
                            }
                            return lines
                        }
                    }
                    group.addTask {
                        for i in 0..<updates {
                            _ = try server.store.updateForBenchmark(info, name: "cm-0", data: ["index": .string(String(i + 1))])
                        }
                        return 0
                    }
                    for try await _ in group {}
                }
                samples.seconds.append(elapsed(start))
                try await client.shutdown()
            }
        }
        print("devserver-watch updates=\(updates) watchers=\(watchers) runs=\(runs)")
        print(String(format: "  all events delivered: min %.2f s, median %.2f s", samples.min, samples.median))
        print(String(format: "  at median: %.0f updates/s, %.0f events/s delivered", Double(updates) / samples.median, Double(updates * watchers) / samples.median))
    }
}
