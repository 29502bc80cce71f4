import DevAPIServer
import Foundation
@testable import Informers
import KubeClient
import KubeCore
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The reflector against the dev API server while the server misbehaves:
/// watches cut, history compacted (410), 429s and 500s, with writes meanwhile.
@Suite struct ReflectorTests {
    static let configMaps = GroupVersionResource(group: "", version: "v1", resource: "configmaps")

    /// What the handler saw, per key: the last event and the resourceVersion it carried.
    final class Recorder: Sendable {
        struct Entry: Equatable { var kind: String; var resourceVersion: String }
        let entries = Mutex<[String: Entry]>([:])
        let finalStateUnknown = Mutex(0)

        func record(_ event: InformerEvent) {
            switch event {
            case .added(let o): set(o, "added")
            case .updated(_, let o): set(o, "updated")
            case .deleted(let o, let unknown):
                if unknown { finalStateUnknown.withLock { $0 += 1 } }
                set(o, "deleted")
            }
        }

        private func set(_ object: KubeObject, _ kind: String) {
            entries.withLock { $0[objectKey(object.metadata)] = Entry(kind: kind, resourceVersion: object.metadata.resourceVersion) }
        }
    }

    func configMap(_ name: String, _ value: String) -> [UInt8] {
        JSON.object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["v": .string(value)]]).serialized()
    }

    /// Waits for a condition with a deadline instead of sleeping.
    func eventually(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what)")
    }

    /// How the reflector takes the initial state.
    enum Mode: String, CaseIterable, Sendable {
        /// Paginated LISTs.
        case list
        /// Streaming lists (a watch with sendInitialEvents).
        case stream
        /// Streaming asked for, refused by the server: falls back to LISTs.
        case streamRefused
    }

    @Test(arguments: Mode.allCases)
    func cacheConvergesAndEveryChangeIsReportedThroughFaults(mode: Mode) async throws {
        var serverConfiguration = DevServer.Configuration()
        serverConfiguration.tls = .none
        serverConfiguration.store.historyLimit = 50
        serverConfiguration.store.watchList = mode != .streamRefused
        let server = try DevServer(configuration: serverConfiguration)
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let url = try await server.ready()
        var transportConfiguration = TransportConfiguration(server: url)
        transportConfiguration.maxRetries = 0
        let transport = try Transport(transportConfiguration)
        let client = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
        for i in 0..<30 { _ = try await client.create(configMap("cm-\(i)", "0")) }

        var configuration = ReflectorConfiguration()
        configuration.pageSize = 7
        configuration.streamingList = mode != .list
        configuration.initialBackoff = .milliseconds(5)
        configuration.maxBackoff = .milliseconds(50)
        let recorder = Recorder()
        var logger = Logger(label: "test.reflector")
        logger.logLevel = .critical
        let reflector = Reflector(client: client, configuration: configuration, logger: logger) { recorder.record($0) }
        let reflecting = Task { await reflector.run() }
        await reflector.waitForSync()
        #expect(reflector.cache.count == 30)

        var deleted = Set<String>()
        var next = 30
        for round in 0..<12 {
            // Writes: one create, two updates, one delete per round.
            _ = try await client.create(configMap("cm-\(next)", "0"))
            next += 1
            for i in [round, round + 10] where !deleted.contains("cm-\(i)") {
                _ = try await client.patch("cm-\(i)", JSON.object(["data": ["v": .string("r\(round)")]]).serialized(), type: .merge)
            }
            let victim = "cm-\(round * 2 + 1)"
            if !deleted.contains(victim) {
                _ = try await client.delete(victim)
                deleted.insert(victim)
            }
            // And a fault.
            switch round % 4 {
            case 0: server.store.cutAllWatches()
            case 1:
                server.store.compactHistory()
                server.store.cutAllWatches()
            case 2:
                server.faults.add(.init(verb: "list", resource: "configmaps", code: 429, retryAfterSeconds: 0, count: 2))
                server.faults.add(.init(verb: "watch", resource: "configmaps", code: 500, count: 2))
                server.store.cutAllWatches()
            default:
                // History compacted while nobody watches: the next watch gets 410 and relists.
                server.faults.add(.init(verb: "watch", resource: "configmaps", code: 503, count: 1))
                server.store.cutAllWatches()
                server.store.compactHistory()
            }
        }

        // The cache converges on the server's state...
        let lister = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
        var truth: [String: String] = [:]
        try await eventually("the cache to equal the server") {
            guard let list = try? await lister.listObjects() else { return false }
            truth = Dictionary(uniqueKeysWithValues: list.items.map { (objectKey($0.metadata), $0.metadata.resourceVersion) })
            let cached = Dictionary(uniqueKeysWithValues: reflector.cache.list().map { (objectKey($0.metadata), $0.metadata.resourceVersion) })
            return cached == truth
        }
        // ...and every change reached the handler: each live object's last event carries
        // its current resourceVersion, and each deleted object's last event is a delete.
        let entries = recorder.entries.withLock { $0 }
        for (key, rv) in truth {
            #expect(entries[key]?.resourceVersion == rv && entries[key]?.kind != "deleted", "\(key): \(String(describing: entries[key])) vs \(rv)")
        }
        for name in deleted {
            #expect(entries["default/\(name)"]?.kind == "deleted", "\(name) was deleted but the handler last saw \(String(describing: entries["default/\(name)"]))")
        }
        #expect(reflector.cache.list().allSatisfy { !$0.text.contains("managedFields") })

        reflecting.cancel()
        await reflecting.value
        try await transport.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Starts a plain-HTTP dev server with `count` ConfigMaps in `default`.
    func withServer(watchList: Bool = true, count: Int,
                    _ body: (DevServer, Transport, ResourceClient) async throws -> Void) async throws {
        var serverConfiguration = DevServer.Configuration()
        serverConfiguration.tls = .none
        serverConfiguration.store.watchList = watchList
        let server = try DevServer(configuration: serverConfiguration)
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        var transportConfiguration = TransportConfiguration(server: try await server.ready())
        transportConfiguration.maxRetries = 0
        let transport = try Transport(transportConfiguration)
        let client = ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default")
        for i in 0..<count { _ = try await client.create(configMap("cm-\(i)", "v\(i)")) }
        try await body(server, transport, client)
        try await transport.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// A streaming list takes the whole state from one watch: with every LIST
    /// failing, the reflector still syncs, and the transform shapes what is cached
    /// and what handlers see.
    @Test func streamingListNeedsNoListAndTransformsObjects() async throws {
        try await withServer(count: 25) { server, _, client in
            server.faults.add(.init(verb: "list", resource: "configmaps", code: 500, count: 1_000_000))
            var configuration = ReflectorConfiguration()
            configuration.progressEvery = 10
            configuration.transform = { object in
                guard var json = try? object.json else { return object }
                json["data"] = nil
                return (try? KubeObject(bytes: json.serialized())) ?? object
            }
            let seen = Mutex<[String]>([])
            let reflector = Reflector(client: client, configuration: configuration) { event in
                if case .added(let o) = event { seen.withLock { $0.append(o.text) } }
            }
            let reflecting = Task { await reflector.run() }
            await reflector.waitForSync()
            #expect(reflector.cache.count == 25)
            #expect(try reflector.cache.list().allSatisfy { try $0.json["data"] == nil && $0.metadata.name.hasPrefix("cm-") })
            #expect(seen.withLock { $0.count } == 25)
            #expect(seen.withLock { $0 }.allSatisfy { !$0.contains("\"data\"") })
            // Events after the initial state go through the same watch and the same transform.
            _ = try await client.create(configMap("late", "x"))
            try await eventually("the late object") { reflector.cache.get(namespace: "default", name: "late") != nil }
            #expect(try reflector.cache.get(namespace: "default", name: "late")?.json["data"] == nil)
            #expect(server.store.openWatchCount(group: "", resource: "configmaps") == 1)
            reflecting.cancel()
            await reflecting.value
        }
    }

    /// A streaming list of several megabytes (sent in writes of about one each) and a watch resumed
    /// over several megabytes of history both arrive whole: every object, byte for byte, in order.
    @Test func streamingListAndHistoryOfManyMegabytesArriveWhole() async throws {
        let large = String(repeating: "x", count: 12_000)
        try await withServer(count: 0) { server, _, client in
            for i in 0..<200 { _ = try await client.create(configMap("big-\(i)", "\(i)-" + large)) }
            // As the reflector caches them: without managedFields.
            let start = try await client.listObjects(cutManagedFields: true)
            #expect(start.items.reduce(0) { $0 + $1.bytes.count } > 2 * 1_048_576)
            let added = Mutex<[String]>([])
            let reflector = Reflector(client: client, configuration: ReflectorConfiguration()) { event in
                if case .added(let o) = event { added.withLock { $0.append(o.metadata.name) } }
            }
            let reflecting = Task { await reflector.run() }
            try await eventually("the streaming list") { reflector.hasSynced }
            #expect(added.withLock { $0 } == start.items.map(\.metadata.name))
            #expect(start.items.filter { reflector.cache.get(objectKey($0.metadata))?.bytes != $0.bytes }.map(\.metadata.name) == [])
            reflecting.cancel()
            await reflecting.value

            // The same size of history, replayed to a watch resumed from before it.
            for i in 0..<200 { _ = try await client.patch("big-\(i)", JSON.object(["data": ["v": .string("\(i)+" + large)]]).serialized(), type: .merge) }
            let cache = ObjectCache()
            _ = cache.replace(with: start.items)
            let updated = Mutex<[String]>([])
            let resumed = Reflector(client: client, cache: cache) { event in
                if case .updated(_, let new) = event { updated.withLock { $0.append(new.metadata.name) } }
            }
            let resuming = Task { await resumed.run(resumingFrom: start.resourceVersion) }
            try await eventually("the replayed history") { updated.withLock { $0.count } == 200 }
            #expect(updated.withLock { $0 } == (0..<200).map { "big-\($0)" })
            let end = try await client.listObjects(cutManagedFields: true)
            #expect(end.items.filter { resumed.cache.get(objectKey($0.metadata))?.bytes != $0.bytes }.map(\.metadata.name) == [])
            #expect(server.store.openWatchCount(group: "", resource: "configmaps") == 1)
            resuming.cancel()
            await resuming.value
        }
    }

    /// The room a list reserves follows the server's remainingItemCount, but a reply that is
    /// absent, negative or absurd cannot make it reserve more than a bounded amount.
    /// A paginated list whose continue token outlives the server's history (a write, then the
    /// history compacted, while the pages come slowly) starts again from the first page: the cache
    /// then holds the state of the second list, which has the object written meanwhile, and every
    /// object reached the handler once as an add.
    @Test func aListWhoseContinueTokenExpiresStartsAgain() async throws {
        try await withServer(count: 40) { server, transport, client in
            server.faults.setLatency(.milliseconds(20))
            var configuration = ReflectorConfiguration()
            configuration.pageSize = 5
            configuration.streamingList = false
            let recorder = Recorder()
            let adds = Mutex(0)
            let reflector = Reflector(client: client, configuration: configuration) { event in
                if case .added = event { adds.withLock { $0 += 1 } }
                recorder.record(event)
            }
            let reflecting = Task { await reflector.run() }
            try await Task.sleep(for: .milliseconds(60))
            #expect(!reflector.hasSynced, "the list of eight slow pages ended before the write")
            _ = try await client.create(configMap("late", "x"))
            server.store.compactHistory()
            await reflector.waitForSync()
            #expect(reflector.cache.count == 41)
            #expect(reflector.cache.get(namespace: "default", name: "late") != nil)
            #expect(adds.withLock { $0 } == 41)
            #expect(recorder.finalStateUnknown.withLock { $0 } == 0)
            server.faults.setLatency(.zero)
            reflecting.cancel()
            await reflecting.value
        }
    }

    @Test func theListReserveTakesTheServersCountOnlyAsAHint() {
        #expect(Reflector.listCapacity(firstPage: 500, remaining: 99_500, cached: 0) == 100_000)
        #expect(Reflector.listCapacity(firstPage: 500, remaining: nil, cached: 7_000) == 7_500)
        #expect(Reflector.listCapacity(firstPage: 500, remaining: -3, cached: 7_000) == 500)
        #expect(Reflector.listCapacity(firstPage: 500, remaining: .max, cached: 0) == 500 + Reflector.maxListReserve)
        #expect(Reflector.listCapacity(firstPage: 0, remaining: 0, cached: 0) == 0)
    }

    /// A server that refuses streaming lists (422, as kube-apiserver without the
    /// WatchList feature) is listed instead; the reflector does not keep asking.
    @Test func refusedStreamingListFallsBackToList() async throws {
        try await withServer(watchList: false, count: 12) { server, _, client in
            var configuration = ReflectorConfiguration()
            configuration.initialBackoff = .milliseconds(5)
            let reflector = Reflector(client: client, configuration: configuration) { _ in }
            let reflecting = Task { await reflector.run() }
            await reflector.waitForSync()
            #expect(reflector.cache.count == 12)
            // A 410 later means a relist, again through LIST (streaming would be refused).
            server.store.compactHistory()
            server.store.cutAllWatches()
            _ = try await client.create(configMap("after", "x"))
            try await eventually("the object created after the relist") { reflector.cache.get(namespace: "default", name: "after") != nil }
            #expect(reflector.cache.count == 13)
            reflecting.cancel()
            await reflecting.value
        }
    }

    /// A reflector resumed on a cache filled elsewhere watches from that
    /// resourceVersion without listing and counts as synced at once.
    @Test func resumingWatchesFromTheGivenVersion() async throws {
        try await withServer(count: 5) { server, _, client in
            let list = try await client.listObjects()
            let cache = ObjectCache()
            _ = cache.replace(with: list.items)
            _ = try await client.patch("cm-0", JSON.object(["data": ["v": "changed"]]).serialized(), type: .merge)
            server.faults.add(.init(verb: "list", resource: "configmaps", code: 500, count: 1_000_000))
            let updates = Mutex(0)
            let reflector = Reflector(client: client, cache: cache) { event in
                if case .updated = event { updates.withLock { $0 += 1 } }
            }
            let reflecting = Task { await reflector.run(resumingFrom: list.resourceVersion) }
            try await eventually("the update made before the watch started") { updates.withLock { $0 } == 1 }
            #expect(reflector.hasSynced)
            #expect(try reflector.cache.get(namespace: "default", name: "cm-0")?.json["data"]?["v"] == "changed")
            reflecting.cancel()
            await reflecting.value
        }
    }
}
