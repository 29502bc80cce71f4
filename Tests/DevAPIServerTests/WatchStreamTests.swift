import AsyncHTTPClient
import DevAPIServer
import Foundation
import KubeCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Testing

/// Watches over real HTTPS: events arrive in resourceVersion order as they are
/// written, and a graceful shutdown ends open watches instead of hanging on them.
@Suite struct WatchStreamTests {
    @Test func eventsArriveInOrderAsTheyAreWritten() async throws {
        try await withDevServer(auth: Authentication()) { server, url in
            let info = try #require(server.store.resource(group: "", version: "v1", resource: "configmaps"))
            let rv = server.store.currentResourceVersion
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: try trusting(server)))
            let request = HTTPClientRequest(url: url + "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(rv)")
            let response = try await client.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 200)
            for i in 0..<50 {
                _ = try server.store.createForBenchmark(info, body: ["apiVersion": "v1", "kind": "ConfigMap",
                                                                     "metadata": ["name": .string("cm-\(i)"), "namespace": "default"]])
            }
            var names: [String] = []
            var versions: [Int64] = []
            var pending: [UInt8] = []
            for try await buffer in response.body {
                pending += buffer.readableBytesView
                while let newline = pending.firstIndex(of: 0x0a) {
                    let event = try JSON.parse(pending[..<newline])
                    pending.removeSubrange(...newline)
                    #expect(event["type"] == "ADDED")
                    names.append(event[path: ["object", "metadata", "name"]]?.stringValue ?? "")
                    versions.append(Int64(event[path: ["object", "metadata", "resourceVersion"]]?.stringValue ?? "") ?? -1)
                }
                if names.count == 50 { break }
            }
            #expect(names == (0..<50).map { "cm-\($0)" })
            #expect(versions == versions.sorted() && Set(versions).count == 50)
            try await client.shutdown()
        }
    }

    @Test func gracefulShutdownEndsOpenWatches() async throws {
        var configuration = DevServer.Configuration()
        configuration.tls = .none
        let server = try DevServer(configuration: configuration)
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let url = try await server.ready()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let response = try await client.execute(HTTPClientRequest(url: url + "/api/v1/configmaps?watch=true"), timeout: .seconds(30))
        #expect(response.status.code == 200)
        let drained = Task { () -> Bool in
            for try await _ in response.body {}
            return true
        }
        await group.triggerGracefulShutdown()
        #expect(try await drained.value)
        try await running.value
        try await client.shutdown()
    }
}
