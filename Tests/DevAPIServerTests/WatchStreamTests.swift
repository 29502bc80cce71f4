import AsyncHTTPClient
import DevAPIServer
import Foundation
import KubeCore
import Logging
import NIOCore
import NIOHTTP1
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

    /// A streaming list sends the state as it was when the watch registered, although its lines
    /// are rendered while the body is written: writes made after the response began (mid-body: the
    /// state is 32 MB, more than the sockets buffer) arrive only after the closing bookmark, as events.
    @Test func streamingListSendsTheStateOfItsRegistrationThenLaterWrites() async throws {
        try await withDevServer(auth: Authentication()) { server, url in
            let info = try #require(server.store.resource(group: "", version: "v1", resource: "configmaps"))
            let payload = String(repeating: "p", count: 16_000)
            for i in 0..<4_000 {
                _ = try server.store.createForBenchmark(info, body: ["apiVersion": "v1", "kind": "ConfigMap",
                                                                     "metadata": ["name": .string("cm-\(i)"), "namespace": "default",
                                                                                  "labels": ["tier": i % 2 == 0 ? "a" : "b"]],
                                                                     "data": ["payload": .string(payload)]])
            }
            for i in 0..<10 {
                _ = try server.store.createForBenchmark(info, body: ["apiVersion": "v1", "kind": "ConfigMap",
                                                                     "metadata": ["name": .string("cm-\(i)"), "namespace": "kube-system",
                                                                                  "labels": ["tier": "a"]]])
            }
            let registered = server.store.currentResourceVersion
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: try trusting(server)))
            let base = url + "/api/v1/namespaces/default/configmaps"
            let response = try await client.execute(
                HTTPClientRequest(url: base + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&labelSelector=tier%3Da"),
                timeout: .seconds(60))
            #expect(response.status.code == 200)
            // The watch has registered (its response began); these writes come after its state.
            func send(_ method: HTTPMethod, _ path: String, _ body: String?, contentType: String = "application/merge-patch+json") async throws {
                var request = HTTPClientRequest(url: base + path)
                request.method = method
                request.headers.add(name: "Content-Type", value: contentType)
                if let body { request.body = .bytes(ByteBuffer(string: body)) }
                let answer = try await client.execute(request, timeout: .seconds(30))
                _ = try await answer.body.collect(upTo: 1 << 20)
                #expect(answer.status.code < 300, "\(method) \(path): \(answer.status)")
            }
            try await send(.PATCH, "/cm-998", #"{"data":{"payload":"changed"}}"#)
            try await send(.DELETE, "/cm-996", nil)
            try await send(.POST, "", #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late","labels":{"tier":"a"}}}"#,
                           contentType: "application/json")
            try await send(.PATCH, "/cm-1", #"{"metadata":{"labels":{"tier":"a"}}}"#)

            var events: [JSON] = []
            var pending: [UInt8] = []
            reading: for try await buffer in response.body {
                pending += buffer.readableBytesView
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: 0x0a) {
                    events.append(try JSON.parse(pending[start..<newline]))
                    start = newline + 1
                    if events.count == 2_000 + 1 + 4 { break reading }
                }
                pending.removeSubrange(..<start)
            }
            try await client.shutdown()
            let initial = events.prefix(2_000)
            // (Compared as Booleans with a message: the objects are 16 KB each.)
            #expect(initial.allSatisfy { $0["type"] == "ADDED" }, "a line of the initial state is not ADDED")
            let names = initial.map { $0[path: ["object", "metadata", "name"]]?.stringValue ?? "" }
            let expected = stride(from: 0, to: 4_000, by: 2).map { "cm-\($0)" }.sorted()
            #expect(names.elementsEqual(expected), "initial names differ from tier=a in default, in key order: \(Set(names).symmetricDifference(expected).sorted())")
            // As stored at registration (cm-998 unchanged, cm-996 present: both sort near the end of the
            // body), every version at most the registered one.
            let sentPayload = initial.last { $0[path: ["object", "metadata", "name"]] == "cm-998" }?[path: ["object", "data", "payload"]]?.stringValue
            #expect(sentPayload == payload, "cm-998 was sent as changed after registration")
            #expect(initial.allSatisfy { UInt64($0[path: ["object", "metadata", "resourceVersion"]]?.stringValue ?? "") ?? .max <= registered },
                    "an initial object is newer than the registration")
            let bookmark = events[2_000]
            #expect(bookmark["type"] == "BOOKMARK")
            #expect(bookmark[path: ["object", "metadata", "annotations", "k8s.io/initial-events-end"]] == "true")
            #expect(bookmark[path: ["object", "metadata", "resourceVersion"]]?.stringValue == String(registered))
            let later = events.suffix(4).map { "\($0["type"]?.stringValue ?? "") \($0[path: ["object", "metadata", "name"]]?.stringValue ?? "")" }
            #expect(later == ["MODIFIED cm-998", "DELETED cm-996", "ADDED late", "ADDED cm-1"])
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
