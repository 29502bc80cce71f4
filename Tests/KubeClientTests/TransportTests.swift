import AsyncHTTPClient
import DevAPIServer
import Foundation
@testable import KubeClient
import KubeCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// The client against the dev API server over real HTTPS on loopback.
@Suite struct TransportTests {
    static let configMaps = GroupVersionResource(group: "", version: "v1", resource: "configmaps")

    func configMap(_ name: String, data: JSON = [:]) -> [UInt8] {
        JSON.object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": data]).serialized()
    }

    @Test func restVerbsRoundTrip() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            let created = try JSON.parse(try await cms.create(configMap("a", data: ["k": "1"])))
            #expect(created[path: ["metadata", "uid"]] != nil)
            let fetched = try JSON.parse(try await cms.get("a"))
            #expect(fetched["data"] == ["k": "1"])
            _ = try await cms.patch("a", JSON.object(["data": ["k": "2"]]).serialized(), type: .merge)
            let applied = try JSON.parse(try await cms.patch("a", configMap("a", data: ["k": "3"]), type: .apply(force: true), options: WriteOptions(fieldManager: "test")))
            #expect(applied["data"] == ["k": "3"])
            _ = try await cms.delete("a")
            await #expect { try await cms.get("a") } throws: { ($0 as? KubeAPIError)?.isNotFound == true }
        }
    }

    @Test func errorsCarryTheServersStatus() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            let created = try JSON.parse(try await cms.create(configMap("c")))
            await #expect { try await cms.create(self.configMap("c")) } throws: { ($0 as? KubeAPIError)?.isAlreadyExists == true }
            var stale = created
            stale[path: ["metadata", "resourceVersion"]] = "1"
            await #expect { try await cms.update("c", stale.serialized()) } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.isConflict && error.description.contains("the object has been modified")
            }
            await #expect { try await cms.delete("c", options: DeleteOptions(preconditionUID: "other")) } throws: { ($0 as? KubeAPIError)?.isConflict == true }
            await #expect { try await cms.create(self.configMap("Bad_Name")) } throws: { error in
                guard let error = error as? KubeAPIError else { return false }
                return error.isInvalid && error.causes.first?.field == "metadata.name"
            }
        }
    }

    @Test func paginatedListReturnsEveryObjectOnce() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            for i in 0..<7 { _ = try await cms.create(configMap("cm-\(i)")) }
            var names: [String] = []
            var token: String?
            repeat {
                let page = try JSON.parse(try await cms.list(ListOptions(limit: 3, continueToken: token)))
                names += page["items"]?.arrayValue?.compactMap { $0[path: ["metadata", "name"]]?.stringValue } ?? []
                token = page[path: ["metadata", "continue"]]?.stringValue
            } while token != nil
            #expect(names == (0..<7).map { "cm-\($0)" })
        }
    }

    /// A body is collected whole, with a Content-Length (a LIST) or without (a watch that the server
    /// ends), and one longer than the limit is an error in both cases.
    @Test func bodiesAreCollectedWholeUpToTheLimit() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            let value = JSON.string(String(repeating: "v", count: 2_000))
            for i in 0..<30 { _ = try await cms.create(configMap("cm-\(i)", data: ["k": value])) }
            let path = "/api/v1/namespaces/default/configmaps"
            let list = try await transport.send(APIRequest(method: .GET, path: path))
            #expect(list.headers.first(name: "content-length") == String(list.body.count))
            #expect(try JSON.parse(list.body)["items"]?.arrayValue?.count == 30)
            let watch = [("watch", "true"), ("resourceVersion", "0"), ("timeoutSeconds", "1")]
            let lines = try await transport.send(APIRequest(method: .GET, path: path, query: watch))
            #expect(lines.headers.first(name: "content-length") == nil)
            let events = lines.body.split(separator: UInt8(ascii: "\n")).map { try? JSON.parse(Array($0)) }
            #expect(events.count == 30 && events.allSatisfy { $0?["type"] == "ADDED" })
            let limit = list.body.count - 1
            await #expect(throws: NIOTooManyBytesError.self) { try await transport.send(APIRequest(method: .GET, path: path), maxBodySize: limit) }
            await #expect(throws: NIOTooManyBytesError.self) {
                try await transport.send(APIRequest(method: .GET, path: path, query: watch), maxBodySize: limit)
            }
            // A body over the limit would be over it again: not retried as a connection failure is.
            #expect(!Transport.mayRetry(NIOTooManyBytesError(maxBytes: limit)))
            #expect(Transport.mayRetry(HTTPClientError.remoteConnectionClosed))
        }
    }

    @Test func tooManyRequestsIsRetriedAfterRetryAfter() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            server.faults.add(.init(verb: "list", resource: "configmaps", code: 429, retryAfterSeconds: 0, count: 3))
            let list = try JSON.parse(try await cms.list())
            #expect(list["kind"] == "ConfigMapList")
            // The rule was used up by the retries, so the server saw all three 429s.
            server.faults.add(.init(verb: "list", resource: "configmaps", code: 503, count: 1))
            await #expect { try await cms.list() } throws: { ($0 as? KubeAPIError)?.isServiceUnavailable == true }
        }
    }

    @Test func retriesStopAtTheLimit() async throws {
        try await withClient(maxRetries: 2) { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            server.faults.add(.init(verb: "get", code: 429, retryAfterSeconds: 0, count: 5))
            await #expect { try await cms.get("x") } throws: { ($0 as? KubeAPIError)?.isTooManyRequests == true }
        }
    }

    @Test func serverErrorsWithoutRetryAfterAreNotRetried() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            server.faults.add(.init(verb: "create", code: 500, count: 1))
            await #expect { try await cms.create(self.configMap("once")) } throws: { ($0 as? KubeAPIError)?.isInternalError == true }
            _ = try await cms.create(configMap("once"))
        }
    }

    @Test func unauthorizedRefreshesDynamicCredentialsOnce() async throws {
        let fetches = Mutex(0)
        let invalidations = Mutex(0)
        try await withClient(credentials: .dynamic(
            current: { fetches.withLock { $0 += 1; return $0 == 1 ? .bearer("stale") : .bearer("good") } },
            invalidate: { invalidations.withLock { $0 += 1 } }
        )) { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            _ = try await cms.list()
            #expect(invalidations.withLock { $0 } == 1)
            #expect(fetches.withLock { $0 } == 2)
        }
    }

    @Test func watchFollowsWritesAndEndsWhenCut() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            let rv = String(server.store.currentResourceVersion)
            let events = try await cms.watch(WatchOptions(resourceVersion: rv, allowBookmarks: false), cutManagedFields: true)
            _ = try await cms.create(configMap("w1"))
            _ = try await cms.create(configMap("w2"))
            var names: [String] = []
            for try await event in events {
                #expect(event.type == .added)
                names.append(event.object?.metadata.name ?? "?")
                #expect(event.object.map { !$0.text.contains("managedFields") } == true)
                if names.count == 2 { server.store.cutAllWatches() }
            }
            #expect(names == ["w1", "w2"])
        }
    }

    @Test func watchFromACompactedVersionEndsWithAnExpiredEvent() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            _ = try await cms.create(configMap("old"))
            server.store.compactHistory()
            var received: [WatchEvent] = []
            for try await event in try await cms.watch(WatchOptions(resourceVersion: "1")) { received.append(event) }
            guard case .error(let status) = received.first else {
                Issue.record("expected an ERROR event, got \(received)")
                return
            }
            #expect(status.code == 410 && status.reason == "Expired")
        }
    }

    @Test func listObjectsKeepBytesAndParseMetadata() async throws {
        try await withClient { server, transport in
            let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
            _ = try await cms.create(JSON.object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "l1", "labels": ["app": "x"]]]).serialized())
            let list = try await cms.listObjects(cutManagedFields: true)
            #expect(list.items.map(\.metadata.name) == ["l1"])
            #expect(list.items.first?.metadata.labels == ["app": "x"])
            #expect(list.items.first?.kind == "ConfigMap")
            #expect(Int(list.resourceVersion) ?? 0 > 0)
        }
    }

    @Test func nonStatusBodiesStillMakeReadableErrors() {
        let error = KubeAPIError(statusCode: 502, body: Array("<html>Bad Gateway</html>".utf8), retryAfterHeader: "3")
        #expect(error.code == 502)
        #expect(error.message.contains("not a Status: <html>Bad Gateway</html>"))
        #expect(error.retryAfterSeconds == 3)
    }

    @Test func connectionFailuresAreNotAPIErrors() async throws {
        var configuration = TransportConfiguration(server: "http://127.0.0.1:1")
        configuration.maxRetries = 1
        configuration.connectTimeout = .milliseconds(300)
        let transport = try Transport(configuration)
        let cms = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
        await #expect { try await cms.list() } throws: { !($0 is KubeAPIError) }
        try await transport.shutdown()
    }
}

/// The client-side rate limit on a real transport: what waits and what does not.
@Suite struct TransportRateLimitTests {
    /// Counts the waits the limiter asks for, and returns at once.
    final class CountingClock: LimiterClock {
        let waits = Mutex(0)
        var now: ContinuousClock.Instant { ContinuousClock.now }
        func sleep(until deadline: ContinuousClock.Instant) async throws { waits.withLock { $0 += 1 } }
    }

    @Test func pagesOfOneListTakeNoTokenButEveryNewRequestDoes() async throws {
        let clock = CountingClock()
        // One token, and a refill far slower than the test: every request that takes a token after the first waits.
        try await withClient(rateLimit: (qps: 0.001, burst: 1, clock: clock)) { server, transport in
            let info = server.store.resource(group: "", version: "v1", resource: "configmaps")!
            for i in 0..<5 {
                _ = try server.store.createForBenchmark(info, body: ["apiVersion": "v1", "kind": "ConfigMap",
                                                                     "metadata": ["name": .string("cm-\(i)"), "namespace": "default"]])
            }
            let client = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: "default")
            var names: [String] = []
            var token: String?
            var pages = 0
            repeat {
                let page = try await client.listObjects(ListOptions(limit: 2, continueToken: token))
                names += page.items.map(\.metadata.name)
                token = page.continueToken
                pages += 1
            } while token != nil
            #expect(pages == 3)
            #expect(names == (0..<5).map { "cm-\($0)" })
            // The first page took the one token; the two pages after it took none.
            #expect(clock.waits.withLock { $0 } == 0)
            // A new list (no continue token) is throttled.
            _ = try await client.listObjects(ListOptions(limit: 2))
            #expect(clock.waits.withLock { $0 } == 1)
        }
    }
}

/// The token bucket with a clock the test moves.
@Suite struct TokenBucketTests {
    final class ManualClock: LimiterClock {
        let current = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { current.withLock { $0 } }
        func advance(_ d: Duration) { current.withLock { $0 += d } }
        func sleep(until deadline: ContinuousClock.Instant) async throws {}
    }

    @Test func burstThenOnePerInterval() {
        let clock = ManualClock()
        let bucket = TokenBucket(qps: 10, burst: 3, clock: clock)
        #expect((0..<3).map { _ in bucket.reserve() } == [.zero, .zero, .zero])
        #expect(bucket.reserve() == .milliseconds(100))
        #expect(bucket.reserve() == .milliseconds(200))
        // 300 ms refill three tokens; two were owed, so one is free and the next waits 100 ms.
        clock.advance(.milliseconds(300))
        #expect(bucket.reserve() == .zero)
        #expect(bucket.reserve() == .milliseconds(100))
        clock.advance(.seconds(10))
        #expect((0..<3).map { _ in bucket.reserve() } == [.zero, .zero, .zero])
    }
}

func withClient(maxRetries: Int = 10, credentials: CredentialSource? = nil,
                rateLimit: (qps: Double, burst: Int, clock: any LimiterClock)? = nil,
                _ body: (DevServer, Transport) async throws -> Void) async throws
{
    var configuration = DevServer.Configuration()
    configuration.authentication = Authentication(tokens: ["good": "tester"])
    let server = try DevServer(configuration: configuration)
    let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
    let running = Task { try await group.run() }
    var transport: Transport?
    do {
        let url = try await server.ready()
        var client = TransportConfiguration(server: url)
        client.certificateAuthorityPEM = server.certificateAuthority?.certificatePEM
        client.credentials = credentials ?? .fixed(.bearer("good"))
        client.maxRetries = maxRetries
        if let rateLimit {
            client.qps = rateLimit.qps
            client.burst = rateLimit.burst
            transport = try Transport(client, limiterClock: rateLimit.clock)
        } else {
            transport = try Transport(client)
        }
        try await body(server, transport!)
    } catch {
        try? await transport?.shutdown()
        await group.triggerGracefulShutdown()
        try? await running.value
        throw error
    }
    try await transport?.shutdown()
    await group.triggerGracefulShutdown()
    try await running.value
}
