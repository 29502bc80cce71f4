import DevAPIServer
import Foundation
import Informers
import KubeClient
import KubeCore
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@Suite struct SharedInformerTests {
    final class Names: Sendable {
        let seen = Mutex<[String]>([])
        let resyncs = Mutex(0)
        func handler(resync: Duration? = nil) -> InformerHandler {
            InformerHandler(resync: resync) { event in
                switch event {
                case .added(let o): self.seen.withLock { $0.append("added \(o.metadata.name)") }
                case .updated(let old, let new) where old.metadata.resourceVersion == new.metadata.resourceVersion:
                    self.resyncs.withLock { $0 += 1 }
                case .updated(_, let o): self.seen.withLock { $0.append("updated \(o.metadata.name)") }
                case .deleted(let o, _): self.seen.withLock { $0.append("deleted \(o.metadata.name)") }
                }
            }
        }
    }

    func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what)")
    }

    static let configMaps = GroupVersionResource(group: "", version: "v1", resource: "configmaps")

    /// Runs `body` against a plain-HTTP dev server, with a transport to it and a client for the
    /// ConfigMaps of `default`.
    func withServer(_ body: (DevServer, Transport, ResourceClient) async throws -> Void) async throws {
        var serverConfiguration = DevServer.Configuration()
        serverConfiguration.tls = .none
        let server = try DevServer(configuration: serverConfiguration)
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        let transport = try Transport(TransportConfiguration(server: try await server.ready()))
        do {
            try await body(server, transport, ResourceClient(transport: transport, resource: Self.configMaps, namespace: "default"))
        } catch {
            try? await transport.shutdown()
            await group.triggerGracefulShutdown()
            try? await running.value
            throw error
        }
        try await transport.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// A handler added while the first list's events are being handed out (after the cache was
    /// filled, before the informer counts as synced) still gets every object: the ones handed out
    /// before it came as the cache's content. (Before, it got neither, and missed them.)
    @Test func aHandlerAddedWhileTheFirstListIsHandedOutMissesNothing() async throws {
        try await withServer { _, transport, writer in
            let names = (0..<20).map { "cm-\($0)" }
            for name in names {
                _ = try await writer.create(JSON.object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)]]).serialized())
            }
            let informer = SharedInformerFactory(transport: transport).informer(for: InformerKey(resource: Self.configMaps, namespace: "default"))
            // The first handler holds up the hand-out at its first event until the second is added.
            let firstEvent = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let holding = Mutex(true)
            await informer.addHandler(InformerHandler { _ in
                guard holding.withLock({ h in defer { h = false }; return h }) else { return }
                firstEvent.continuation.yield()
                var waiting = release.stream.makeAsyncIterator()
                _ = await waiting.next()
            })
            let runningInformer = Task { await informer.run() }
            var started = firstEvent.stream.makeAsyncIterator()
            _ = await started.next()
            #expect(!informer.hasSynced)
            let late = Names()
            await informer.addHandler(late.handler())
            release.continuation.yield()
            await informer.waitForSync()
            let added = Set(late.seen.withLock { $0 }.filter { $0.hasPrefix("added ") }.map { String($0.dropFirst(6)) })
            #expect(added == Set(names))

            runningInformer.cancel()
            await runningInformer.value
        }
    }

    @Test func oneWatchAndCacheServeEveryHandler() async throws {
        try await withServer { server, transport, writer in
            _ = try await writer.create(JSON.object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "first"]]).serialized())

            let factory = SharedInformerFactory(transport: transport)
            let key = InformerKey(resource: Self.configMaps, namespace: "default")
            let informer = factory.informer(for: key)
            #expect(factory.informer(for: key) === informer)
            let early = Names()
            await informer.addHandler(early.handler())
            let runningInformer = Task { await informer.run() }
            await informer.waitForSync()
            #expect(factory.hasSynced)

            // A handler that arrives after the first list gets the cache as adds.
            let late = Names()
            await informer.addHandler(late.handler(resync: .milliseconds(200)))
            #expect(late.seen.withLock { $0 } == ["added first"])

            _ = try await writer.create(JSON.object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "second"]]).serialized())
            _ = try await writer.delete("first")
            try await eventually("both handlers to see the changes") {
                early.seen.withLock { $0 } == ["added first", "added second", "deleted first"]
                    && late.seen.withLock { $0 } == ["added first", "added second", "deleted first"]
            }
            #expect(server.store.openWatchCount(group: "", resource: "configmaps") == 1)
            // Only the handler that asked for resyncs gets them.
            try await eventually("a resync") { late.resyncs.withLock { $0 } > 0 }
            #expect(early.resyncs.withLock { $0 } == 0)

            runningInformer.cancel()
            await runningInformer.value
        }
    }
}
