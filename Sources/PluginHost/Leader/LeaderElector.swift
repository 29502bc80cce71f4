import Foundation
import KubeClient
import Logging
import Metrics
import PluginConfig
import Synchronization

/// Leader election among replicas through a `coordination.k8s.io/v1` Lease,
/// with client-go's rules:
///
/// - A replica takes the lease when it does not exist, when its holder gave it
///   up (empty holder), or when the record has not changed for the lease's
///   duration *as observed by this replica's clock* (never by comparing the
///   holder's timestamps with local time: clocks of two machines disagree).
/// - Every write carries the resourceVersion read before it, so of two
///   replicas racing for the lease one write fails with a conflict.
/// - The leader renews every `retryPeriod`; if no renewal succeeds for
///   `renewDeadline` it stops leading (`run()` throws `LostLeadership`)
///   before its lease (`leaseDuration` > `renewDeadline`) can run out under it.
/// - On cancellation a leader gives the lease up (empty holder), so a standby
///   need not wait for it to expire.
///
/// `state` moves from `unknown` to `following` or `leading` after the first
/// attempt; from `leading` only `run()` ending takes it away.
public final class LeaderElector: Sendable {
    public enum State: Sendable, Equatable {
        /// No attempt has finished yet.
        case unknown
        /// Another replica holds the lease (empty when it is free but this replica's write lost a race).
        case following(holder: String)
        case leading
    }

    /// Renewals failed for `renewDeadline`: this replica must stop reconciling.
    public struct LostLeadership: Error, CustomStringConvertible {
        public var lease: String
        public var description: String { "lost the leader lease \(lease): no renewal succeeded within the renew deadline" }
    }

    public let settings: LeaderElectionSettings
    public let namespace: String
    public let identity: String
    let leases: ResourceClient
    let logger: Logger
    let isLeaderGauge: Gauge
    private let status = Mutex<Status>(Status())

    struct Status {
        var state = State.unknown
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter: UInt64 = 0
    }

    /// The last record read or written, and when this replica first saw it.
    struct Observation {
        var holder: String
        var renewTime: String
        var resourceVersion: String
        var leaseDuration: Duration
        var at: ContinuousClock.Instant
    }

    public init(settings: LeaderElectionSettings, transport: Transport, identity: String = LeaderElector.makeIdentity(),
                environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) {
        self.settings = settings
        self.namespace = settings.namespace ?? environment["POD_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        self.identity = identity
        self.leases = ResourceClient(transport: transport, resource: GroupVersionResource(group: "coordination.k8s.io", version: "v1", resource: "leases"),
                                     namespace: namespace)
        self.lease = "\(namespace)/\(settings.name)"
        var logger = logger
        logger[metadataKey: "lease"] = "\(lease)"
        self.logger = logger
        isLeaderGauge = Gauge(label: PluginHostMetricNames.isLeader, dimensions: [("lease", lease)])
        isLeaderGauge.record(0)
    }

    /// The host name and a random suffix, as client-go's callers make it: unique per process.
    public static func makeIdentity() -> String {
        let host = ProcessInfo.processInfo.hostName
        let suffix = UUID().uuidString.lowercased().prefix(8)
        return "\(host)_\(suffix)"
    }

    /// `namespace/name` of the Lease.
    public let lease: String
    public var state: State { status.withLock { $0.state } }
    public var isLeader: Bool { state == .leading }

    /// Returns once this replica leads; throws `CancellationError` if the task is cancelled first.
    public func waitUntilLeading() async throws {
        let id = status.withLock { status -> UInt64 in
            status.nextWaiter += 1
            return status.nextWaiter
        }
        try await waitForSignal(register: { continuation in
            status.withLock { status in
                if status.state == .leading { return .success(()) }
                if Task.isCancelled { return .failure(CancellationError()) }
                status.waiters[id] = continuation
                return nil
            }
        }, unregister: { self.status.withLock { $0.waiters.removeValue(forKey: id) } })
    }

    /// Acquires the lease, then renews it, until the task is cancelled (a leader
    /// then gives the lease up and returns) or renewals fail for `renewDeadline`
    /// (throws `LostLeadership`).
    public func run() async throws {
        var observed: Observation?
        // Acquire.
        while true {
            if Task.isCancelled { return }
            if await attempt(&observed) { break }
            do { try await Task.sleep(for: jittered(settings.retryPeriod)) } catch { return }
        }
        enter(.leading)
        logger.info("leading: this replica reconciles", metadata: ["identity": "\(identity)"])
        // Renew.
        var lastRenewal = ContinuousClock.now
        while true {
            do {
                try await Task.sleep(for: settings.retryPeriod)
            } catch {
                // Cancelled: give the lease up from a task that is not, or its requests would be cancelled too.
                let held = observed
                await Task { await self.release(held) }.value
                return
            }
            // A renewal gets only the time left until the renew deadline: one that hangs (a stalled API
            // server, a client-side rate limit) must not keep this replica leading past its lease.
            let left = settings.renewDeadline - (ContinuousClock.now - lastRenewal)
            if left > .zero, let (renewed, seen) = await attempt(observed, within: left) {
                observed = seen
                if renewed {
                    lastRenewal = ContinuousClock.now
                    continue
                }
            }
            if ContinuousClock.now - lastRenewal >= settings.renewDeadline {
                enter(.following(holder: observed?.holder ?? ""))
                logger.error("lost the leader lease: no renewal succeeded within the renew deadline", metadata: ["renewDeadline": "\(settings.renewDeadline)"])
                throw LostLeadership(lease: lease)
            }
        }
    }

    /// `attempt`, cancelled when it has not ended within `limit`: nil then.
    func attempt(_ observed: Observation?, within limit: Duration) async -> (renewed: Bool, observed: Observation?)? {
        await withTaskGroup(of: (renewed: Bool, observed: Observation?)?.self) { group in
            group.addTask {
                var seen = observed
                let renewed = await self.attempt(&seen)
                return (renewed, seen)
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// One try to acquire or renew; true when this replica holds the lease after it.
    func attempt(_ observed: inout Observation?) async -> Bool {
        let now = ContinuousClock.now
        let wallNow = Self.microTime(Date())
        let current: Lease
        do {
            current = try JSONDecoder().decode(Lease.self, from: Data(try await leases.get(settings.name)))
        } catch let error as KubeAPIError where error.isNotFound {
            let lease = Lease(metadata: ObjectMeta(name: settings.name, namespace: namespace),
                              spec: .init(holderIdentity: identity, leaseDurationSeconds: leaseSeconds, acquireTime: wallNow, renewTime: wallNow,
                                          leaseTransitions: 0))
            do {
                let created = try JSONDecoder().decode(Lease.self, from: Data(try await leases.create(Array(try JSONEncoder().encode(lease)))))
                observed = Observation(holder: identity, renewTime: wallNow, resourceVersion: created.metadata.resourceVersion ?? "",
                                       leaseDuration: settings.leaseDuration, at: now)
                return true
            } catch {
                note(error, while: "creating the lease")
                return false
            }
        } catch {
            note(error, while: "reading the lease")
            return false
        }
        let spec = current.spec ?? Lease.Spec()
        let holder = spec.holderIdentity ?? ""
        let record = Observation(holder: holder, renewTime: spec.renewTime ?? "", resourceVersion: current.metadata.resourceVersion ?? "",
                                 leaseDuration: .seconds(spec.leaseDurationSeconds ?? Int(settings.leaseDuration.components.seconds)), at: now)
        if let previous = observed, previous.holder == record.holder && previous.renewTime == record.renewTime
            && previous.resourceVersion == record.resourceVersion {
            // Unchanged since we saw it first: its age counts from then.
        } else {
            observed = record
        }
        if !holder.isEmpty && holder != identity, let seen = observed, seen.at + seen.leaseDuration > now {
            if state != .following(holder: holder) {
                enter(.following(holder: holder))
                logger.info("following: another replica leads", metadata: ["holder": "\(holder)"])
            }
            return false
        }
        var taken = current
        taken.spec = .init(holderIdentity: identity, leaseDurationSeconds: leaseSeconds,
                           acquireTime: holder == identity ? spec.acquireTime ?? wallNow : wallNow, renewTime: wallNow,
                           leaseTransitions: (spec.leaseTransitions ?? 0) + (holder == identity ? 0 : 1))
        do {
            let written = try JSONDecoder().decode(Lease.self, from: Data(try await leases.update(settings.name, Array(try JSONEncoder().encode(taken)))))
            observed = Observation(holder: identity, renewTime: wallNow, resourceVersion: written.metadata.resourceVersion ?? "",
                                   leaseDuration: settings.leaseDuration, at: now)
            return true
        } catch {
            note(error, while: holder == identity ? "renewing the lease" : "taking the lease")
            if state == .unknown { enter(.following(holder: holder)) }
            return false
        }
    }

    /// Gives the lease up (best effort): a standby takes it at its next attempt.
    func release(_ observed: Observation?) async {
        guard let observed, observed.holder == identity else { return }
        enter(.following(holder: ""))
        do {
            var lease = try JSONDecoder().decode(Lease.self, from: Data(try await leases.get(settings.name)))
            guard lease.spec?.holderIdentity == identity else { return }
            lease.spec?.holderIdentity = ""
            lease.spec?.leaseDurationSeconds = 1
            lease.spec?.renewTime = Self.microTime(Date())
            _ = try await leases.update(settings.name, Array(try JSONEncoder().encode(lease)))
            logger.info("gave up the leader lease")
        } catch {
            note(error, while: "giving up the lease")
        }
    }

    private func enter(_ state: State) {
        let waiters = status.withLock { status -> [CheckedContinuation<Void, any Error>] in
            status.state = state
            guard state == .leading else { return [] }
            defer { status.waiters = [:] }
            return Array(status.waiters.values)
        }
        isLeaderGauge.record(state == .leading ? 1 : 0)
        for waiter in waiters { waiter.resume() }
    }

    private func note(_ error: any Error, while doing: String) {
        if let apiError = error as? KubeAPIError, apiError.isConflict || apiError.isAlreadyExists {
            logger.debug("another replica wrote the lease first", metadata: ["while": "\(doing)"])
        } else {
            logger.warning("leader election: \(doing) failed", metadata: ["error": "\(error)"])
        }
    }

    /// `leaseDuration` in whole seconds as the Lease records it, rounded up: a standby must never count the
    /// lease as expired before this replica stops renewing it.
    private var leaseSeconds: Int {
        let (seconds, attoseconds) = settings.leaseDuration.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }

    /// `period` stretched by up to 20%, so that replicas started together drift apart.
    private func jittered(_ period: Duration) -> Duration {
        period + period * Double.random(in: 0..<0.2)
    }

    /// RFC 3339 with microseconds, the format of `MicroTime`.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let text = formatter.string(from: Date(timeIntervalSince1970: seconds))
        return text.replacingOccurrences(of: "Z", with: String(format: ".%06dZ", micros))
    }
}
