import DevAPIServer
import Foundation
import KubeClient
import Logging
import PluginConfig
import Testing
@testable import PluginHost

@Suite struct LeaderElectorTests {
    static let settings = LeaderElectionSettings(enabled: true, namespace: "default", name: "test-lease", leaseDuration: .seconds(2),
                                                 renewDeadline: .milliseconds(1500), retryPeriod: .milliseconds(100))

    func elector(_ transport: Transport, _ identity: String, settings: LeaderElectionSettings = Self.settings) -> LeaderElector {
        LeaderElector(settings: settings, transport: transport, identity: identity, logger: Logger(label: "test"))
    }

    func lease(_ transport: Transport) async throws -> Lease {
        let leases = ResourceClient(transport: transport, resource: GroupVersionResource(group: "coordination.k8s.io", version: "v1", resource: "leases"),
                                    namespace: "default")
        return try JSONDecoder().decode(Lease.self, from: Data(try await leases.get("test-lease")))
    }

    @Test func oneReplicaLeadsAndHandsOverWhenItStops() async throws {
        try await withDevServer { _, transport in
            let a = elector(transport, "replica-a"), b = elector(transport, "replica-b")
            #expect(a.state == .unknown)
            let runA = Task { try await a.run() }
            try await a.waitUntilLeading()
            let runB = Task { try await b.run() }
            try await eventually { b.state == .following(holder: "replica-a") }
            // b keeps following while a renews, well past the lease's duration.
            try await Task.sleep(for: .seconds(3))
            #expect(a.isLeader && b.state == .following(holder: "replica-a"))
            var held = try await lease(transport)
            #expect(held.spec?.holderIdentity == "replica-a" && held.spec?.leaseDurationSeconds == 2 && held.spec?.leaseTransitions == 0)

            // a stops: it gives the lease up (so b need not wait for it to run out).
            runA.cancel()
            try await runA.value
            #expect(!a.isLeader)
            #expect(["", "replica-b"].contains(try await lease(transport).spec?.holderIdentity))
            try await b.waitUntilLeading()
            held = try await lease(transport)
            #expect(held.spec?.holderIdentity == "replica-b" && held.spec?.leaseTransitions == 1)
            runB.cancel()
            try await runB.value
            #expect(try await lease(transport).spec?.holderIdentity == "")
        }
    }

    @Test func aVanishedLeaderIsReplacedOnlyAfterItsLeaseRanOutOnTheStandbysClock() async throws {
        try await withDevServer { _, transport in
            // A leader that crashed: its record stays, never renewed again.
            let ghost = elector(transport, "ghost")
            var observed: LeaderElector.Observation?
            #expect(await ghost.attempt(&observed))
            let b = elector(transport, "replica-b")
            let started = ContinuousClock.now
            let runB = Task { try await b.run() }
            try await b.waitUntilLeading()
            let waited = ContinuousClock.now - started
            #expect(waited >= .seconds(2) && waited < .seconds(4), "took over after \(waited)")
            #expect(try await lease(transport).spec?.holderIdentity == "replica-b")
            runB.cancel()
            try await runB.value
        }
    }

    @Test func aLeaderThatCannotRenewStopsLeadingWithinTheRenewDeadline() async throws {
        try await withDevServer { _, transport in
            let a = elector(transport, "replica-a")
            let runA = Task { try await a.run() }
            try await a.waitUntilLeading()
            // Someone else writes the lease again and again: a's renewals find it held.
            let usurper = Task {
                let leases = ResourceClient(transport: transport, resource: GroupVersionResource(group: "coordination.k8s.io", version: "v1", resource: "leases"),
                                            namespace: "default")
                while !Task.isCancelled {
                    if var lease = try? JSONDecoder().decode(Lease.self, from: Data(try await leases.get("test-lease"))) {
                        lease.spec?.holderIdentity = "usurper"
                        lease.spec?.renewTime = LeaderElector.microTime(Date())
                        _ = try? await leases.update("test-lease", Array(try JSONEncoder().encode(lease)))
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            let started = ContinuousClock.now
            await #expect(throws: LeaderElector.LostLeadership.self) { try await runA.value }
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(a.state == .following(holder: "usurper"))
            usurper.cancel()
            await usurper.value
        }
    }

    @Test func aRenewalThatHangsEndsLeadershipAtTheRenewDeadline() async throws {
        try await withDevServer { server, _ in
            // The elector's own client allows three requests, then makes every request wait about 1000 s:
            // acquiring takes two (get, create), the first renewal's get the third, and its update hangs.
            var configuration = TransportConfiguration(server: try await server.ready())
            configuration.maxRetries = 0
            configuration.qps = 0.001
            configuration.burst = 3
            let stalling = try Transport(configuration)
            let a = elector(stalling, "replica-a")
            let runA = Task { try await a.run() }
            try await a.waitUntilLeading()
            let started = ContinuousClock.now
            let outcome = await withTaskGroup(of: String.self) { group in
                group.addTask {
                    do { try await runA.value; return "returned" } catch is LeaderElector.LostLeadership { return "lost" } catch { return "\(error)" }
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(10))
                    return "still leading after 10 s"
                }
                let first = await group.next()!
                runA.cancel()
                group.cancelAll()
                return first
            }
            #expect(outcome == "lost")
            // Within the renew deadline (1.5 s) of the last renewal, with slack for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(a.state != .leading)
            try await stalling.shutdown()
        }
    }

    @Test func theLeaseRecordsItsDurationRoundedUp() async throws {
        try await withDevServer { _, transport in
            let settings = LeaderElectionSettings(enabled: true, namespace: "default", name: "test-lease", leaseDuration: .milliseconds(1500),
                                                  renewDeadline: .milliseconds(1200), retryPeriod: .milliseconds(100))
            let a = elector(transport, "replica-a", settings: settings)
            let runA = Task { try await a.run() }
            try await a.waitUntilLeading()
            #expect(try await lease(transport).spec?.leaseDurationSeconds == 2)
            runA.cancel()
            try? await runA.value
        }
    }

    @Test func waitingForLeadershipEndsWhenTheTaskIsCancelled() async throws {
        try await withDevServer { _, transport in
            let b = elector(transport, "never-runs")
            let waiter = Task { try await b.waitUntilLeading() }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
        }
    }

    @Test func theLeaseNamespaceComesFromTheConfigThenPodNamespace() async throws {
        try await withDevServer { _, transport in
            var settings = Self.settings
            #expect(LeaderElector(settings: settings, transport: transport, environment: ["POD_NAMESPACE": "ops"], logger: Logger(label: "t")).namespace == "default")
            settings = LeaderElectionSettings(enabled: true)
            #expect(LeaderElector(settings: settings, transport: transport, environment: ["POD_NAMESPACE": "ops"], logger: Logger(label: "t")).lease == "ops/plugboard")
            #expect(LeaderElector(settings: settings, transport: transport, environment: [:], logger: Logger(label: "t")).lease == "default/plugboard")
            #expect(LeaderElector.microTime(Date(timeIntervalSince1970: 1_700_000_000.25)) == "2023-11-14T22:13:20.250000Z")
        }
    }
}

@Suite struct LeaderElectorBadLeaseTests {
    @Test func aLeaseItCannotReadIsNeverTakenAndTheFailureIsLogged() async throws {
        try await withDevServer { _, transport in
            let leases = ResourceClient(transport: transport, resource: GroupVersionResource(group: "coordination.k8s.io", version: "v1", resource: "leases"),
                                        namespace: "default")
            _ = try await leases.create(Array(#"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"test-lease"},"spec":{"holderIdentity":7}}"#.utf8))
            let log = LogCapture()
            let elector = LeaderElector(settings: LeaderElectorTests.settings, transport: transport, identity: "replica-a", logger: log.logger)
            var observed: LeaderElector.Observation?
            #expect(await elector.attempt(&observed) == false)
            #expect(elector.state == .unknown && observed == nil)
            // Logged as a warning that says what failed, with the decoding error naming the field.
            let warning = log.first { $0.level == .warning && $0.message == "leader election: reading the lease failed" }
            #expect(warning != nil)
            #expect(warning?.metadata["error"]?.contains("holderIdentity") == true, "\(String(describing: warning?.metadata))")
            // The lease is left as it was: nothing is overwritten on a guess.
            let text = String(decoding: try await leases.get("test-lease"), as: UTF8.self)
            #expect(text.contains(#""holderIdentity":7"#))
        }
    }
}
