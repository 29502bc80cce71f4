import DevAPIServer
import Foundation
import Informers
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

    @Test func cacheConvergesAndEveryChangeIsReportedThroughFaults() async throws {
        var serverConfiguration = DevServer.Configuration()
        serverConfiguration.tls = .none
        serverConfiguration.store.historyLimit = 50
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
}
