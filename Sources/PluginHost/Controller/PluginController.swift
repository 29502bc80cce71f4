import Informers
import KubeClient
import KubeCore
import Logging
import Metrics
import PluginConfig
import WorkQueue

/// One plugin's controller: informer events become keys in its own queue; its
/// own workers take keys, call the plugin and apply the answer.
///
/// Isolation: each plugin has its own queue, workers, HTTP connection pool,
/// dispatch and write token buckets, and per-key backoff, so a slow or failing
/// plugin — or one failing key — holds up nothing else. Informers are shared:
/// plugins watching the same thing share one watch and one cache.
public final class PluginController: Sendable {
    public let plugin: ResolvedPlugin
    public let queue: RateLimitedQueue<ReconcileKey>
    let client: PluginClient
    let applier: ActionApplier
    let dispatchLimiter: TokenBucket
    let builder: ReconcileRequestBuilder
    let events: FailureEvents
    let logger: Logger
    let metrics: ControllerMetrics

    /// Primary informers by namespace; the key nil is "all namespaces".
    let primaries: [String?: SharedInformer]
    /// The one primary informer when it watches all namespaces (`primaries` is `[nil: it]`).
    let allNamespaces: SharedInformer?
    let owned: [(resource: ResolvedResource, informers: [SharedInformer])]
    let related: [(related: ResolvedPlugin.Related, informers: [SharedInformer])]

    public init(plugin: ResolvedPlugin, factory: SharedInformerFactory, transport: Transport, client: PluginClient, logger: Logger) {
        self.plugin = plugin
        let spec = plugin.spec
        self.queue = RateLimitedQueue(name: spec.name,
                                      limiter: ExponentialFailureRateLimiter(baseDelay: spec.rateLimits.backoff.base, maxDelay: spec.rateLimits.backoff.max))
        self.client = client
        let writes = TokenBucket(qps: spec.rateLimits.writes.qps, burst: spec.rateLimits.writes.burst)
        let metrics = ControllerMetrics(plugin: spec.name)
        self.metrics = metrics
        self.applier = ActionApplier(plugin: plugin, transport: transport, writeLimiter: writes) { metrics.rateLimitWait(.writes, since: $0) }
        self.dispatchLimiter = TokenBucket(qps: spec.rateLimits.dispatch.qps, burst: spec.rateLimits.dispatch.burst)
        self.builder = ReconcileRequestBuilder(plugin: spec.name)
        var logger = logger
        logger[metadataKey: "plugin"] = "\(spec.name)"
        self.logger = logger
        self.events = FailureEvents(applier: applier, logger: logger)

        let watchNamespaces: [String?] = plugin.primary.namespaced && !spec.watch.namespaces.isEmpty ? spec.watch.namespaces : [nil]
        func selector(_ text: String) -> String? { text.isEmpty ? nil : text }
        var primaries: [String?: SharedInformer] = [:]
        for namespace in watchNamespaces {
            primaries[namespace] = factory.informer(for: InformerKey(resource: plugin.primary.gvr, namespace: namespace,
                                                                     labelSelector: selector(spec.watch.labelSelector.description),
                                                                     fieldSelector: selector(spec.watch.fieldSelector.description)))
        }
        self.primaries = primaries
        self.allNamespaces = primaries.count == 1 ? primaries[nil] : nil
        // Children live with their owner: in the watched namespaces, or anywhere
        // for a cluster-scoped owner.
        let childNamespaces: [String?] = plugin.primary.namespaced ? watchNamespaces : [nil]
        self.owned = plugin.owns.map { resource in
            (resource, (resource.namespaced ? childNamespaces : [nil]).map {
                factory.informer(for: InformerKey(resource: resource.gvr, namespace: $0))
            })
        }
        self.related = plugin.related.map { related in
            let namespaces: [String?]
            switch related.spec.namespaces {
            case _ where !related.resource.namespaced: namespaces = [nil]
            case .same: namespaces = childNamespaces
            case .all: namespaces = [nil]
            case .list(let names): namespaces = names
            }
            return (related, namespaces.map {
                factory.informer(for: InformerKey(resource: related.resource.gvr, namespace: $0,
                                                  labelSelector: selector(related.spec.labelSelector.description)))
            })
        }
    }

    /// Every informer this controller reads.
    public var informers: [SharedInformer] {
        Array(primaries.values) + owned.flatMap(\.informers) + related.flatMap(\.informers)
    }

    public var hasSynced: Bool { informers.allSatisfy(\.hasSynced) }

    /// Connects the informers' events to the queue. Call once, before the informers run.
    public func registerHandlers() async {
        let filters = plugin.spec.filters
        for informer in primaries.values {
            await informer.addHandler(InformerHandler(resync: plugin.spec.resyncPeriod) { [queue, metrics] event in
                switch event {
                case .added(let object):
                    queue.add(ReconcileKey(object.metadata))
                case .updated(let old, let new):
                    if old.metadata.resourceVersion != new.metadata.resourceVersion && !EventFilter.passes(old: old, new: new, filters: filters) {
                        metrics.filtered.increment()
                        return
                    }
                    queue.add(ReconcileKey(new.metadata))
                case .deleted(let object, _):
                    queue.add(ReconcileKey(object.metadata))
                }
            })
        }
        for (_, informers) in owned {
            for informer in informers {
                await informer.addHandler(InformerHandler { [self] event in
                    switch event {
                    case .added(let object), .deleted(let object, _):
                        if let key = ownerKey(object) { queue.add(key) }
                    case .updated(let old, let new):
                        let keys = Set([ownerKey(old), ownerKey(new)].compactMap { $0 })
                        for key in keys { queue.add(key) }
                    }
                })
            }
        }
        for (relation, informers) in related {
            for informer in informers {
                await informer.addHandler(InformerHandler { [self] event in
                    let object: KubeObject
                    switch event {
                    case .added(let o), .deleted(let o, _): object = o
                    case .updated(let old, let new):
                        if old.metadata.resourceVersion == new.metadata.resourceVersion { return }
                        object = new
                    }
                    if let name = relation.spec.name, object.metadata.name != name { return }
                    for key in primaryKeys(relatedTo: object, relation: relation) { queue.add(key) }
                })
            }
        }
    }

    /// The primary an owned object belongs to: its controller owner reference, if of the primary's kind.
    func ownerKey(_ object: KubeObject) -> ReconcileKey? {
        guard let owner = object.metadata.controllerReference,
              plugin.primary.matches(apiVersion: owner.apiVersion, kind: owner.kind) else { return nil }
        return ReconcileKey(namespace: plugin.primary.namespaced ? object.metadata.namespace : "", name: owner.name)
    }

    /// The primaries a related object's change concerns.
    func primaryKeys(relatedTo object: KubeObject, relation: ResolvedPlugin.Related) -> [ReconcileKey] {
        if case .same = relation.spec.namespaces, relation.resource.namespaced, plugin.primary.namespaced {
            return primaries.values.flatMap { $0.cache.byIndex(ObjectCache.namespaceIndex, object.metadata.namespace) }.map { ReconcileKey($0.metadata) }
        }
        return primaries.values.flatMap { $0.cache.list() }.map { ReconcileKey($0.metadata) }
    }

    func primary(_ key: ReconcileKey) -> KubeObject? {
        if let allNamespaces { return allNamespaces.cache.get(namespace: key.namespace, name: key.name) }
        if let informer = primaries[key.namespace] ?? primaries[nil] { return informer.cache.get(namespace: key.namespace, name: key.name) }
        return nil
    }

    func children(of primary: KubeObject?) -> [(String, [KubeObject])] {
        owned.map { resource, informers in
            guard let primary else { return (resource.typeKey, []) }
            let objects = informers.flatMap { $0.cache.byIndex(ObjectCache.controllerIndex, primary.metadata.uid) }
            return (resource.typeKey, objects.sorted { ($0.metadata.namespace, $0.metadata.name) < ($1.metadata.namespace, $1.metadata.name) })
        }
    }

    func relatedObjects(for key: ReconcileKey) -> [(String, [KubeObject])] {
        related.map { relation, informers in
            var objects: [KubeObject]
            if case .same = relation.spec.namespaces, relation.resource.namespaced {
                objects = informers.flatMap { $0.cache.byIndex(ObjectCache.namespaceIndex, key.namespace) }
            } else {
                objects = informers.flatMap { $0.cache.list() }
            }
            if let name = relation.spec.name { objects.removeAll { $0.metadata.name != name } }
            return (relation.resource.typeKey, objects.sorted { ($0.metadata.namespace, $0.metadata.name) < ($1.metadata.namespace, $1.metadata.name) })
        }
    }

    /// Runs the workers until the queue is shut down (`stop()`): keys still
    /// queued then are dropped and the reconciles in flight finish. Cancelling
    /// the task cancels those too.
    ///
    /// The workers are spread over the event loops the plugin's connections live on, each running there
    /// (see `EventLoopTaskExecutor`), so that a call needs no thread hop.
    public func run() async {
        let updates = Task { await queue.base.base.runUnfinishedWorkUpdates() }
        let executors = client.workerExecutors
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<plugin.spec.workers {
                    let executor = executors.isEmpty ? nil : executors[worker % executors.count]
                    group.addTask(executorPreference: executor) { await self.work() }
                }
            }
        } onCancel: {
            queue.shutDown()
        }
        updates.cancel()
    }

    /// Stops taking new keys.
    public func stop() { queue.shutDown() }

    private func work() async {
        // `doneAndGet`: the done of one key and the get of the next in one critical section.
        var next = await queue.get()
        while let key = next {
            // After a stop, what is still queued is left: the next start lists again anyway.
            if !queue.isShuttingDown { await reconcile(key) }
            next = await queue.doneAndGet(key)
        }
    }

    /// One reconcile of one key, with the queue told what comes next.
    ///
    /// `nonisolated(nonsending)` here and down the call path (`PluginClient.call`, the connection pool):
    /// each runs where its caller runs, the worker's event loop, without the executor check a hop costs at
    /// every entry of a nonisolated async function.
    nonisolated(nonsending) func reconcile(_ key: ReconcileKey) async {
        let started = MonotonicClock.nanoseconds()
        let primary = self.primary(key)
        let attempt = queue.numRequeues(key) + 1
        let body = builder.body(key: key, attempt: attempt, object: primary, children: children(of: primary), related: relatedObjects(for: key))
        let waitStart = MonotonicClock.nanoseconds()
        // A token at once (the usual case) needs no suspension.
        let delay = dispatchLimiter.reserve()
        if delay > .zero {
            do { try await dispatchLimiter.wait(for: delay) } catch { queue.add(key); return }
        }
        // The end of the wait is the start of the call: one clock reading for both.
        let callStart = MonotonicClock.nanoseconds()
        metrics.rateLimitWait(.dispatch, fromNanoseconds: waitStart, to: callStart)
        metrics.inFlight.increment()
        let outcome = await client.call(body)
        metrics.inFlight.decrement()
        let result = await handle(outcome, key: key, primary: primary, attempt: attempt, callStart: callStart)
        metrics.reconciles.record(result, sinceNanoseconds: started)
    }

    private nonisolated(nonsending) func handle(_ outcome: CallOutcome, key: ReconcileKey, primary: KubeObject?, attempt: Int, callStart: Int64) async -> String {
        switch outcome {
        case .throttled(let delay):
            metrics.calls.record("throttled", sinceNanoseconds: callStart)
            logger.debug("plugin asked to retry later", metadata: ["key": "\(key)", "retryAfter": "\(delay)"])
            queue.add(key, after: delay)
            return "throttled"
        case .failed(let failure):
            metrics.calls.record(failure.kind.rawValue, sinceNanoseconds: callStart)
            logger.warning("plugin call failed", metadata: ["key": "\(key)", "attempt": "\(attempt)", "error": "\(failure.message)"])
            await events.record(key: key, primary: primary, reason: failure.kind == .invalidResponse ? "InvalidPluginResponse" : "PluginCallFailed",
                                message: failure.message)
            queue.addRateLimited(key)
            return failure.kind.rawValue
        case .response(let response):
            metrics.calls.record("success", sinceNanoseconds: callStart)
            do {
                // No actions, nothing to apply (the applier would plan and write nothing).
                if !response.actions.isEmpty {
                    try await applier.apply(response.actions, key: key, primary: primary) { [metrics] action, ok in
                        metrics.action(action, ok ? "success" : "error")
                    }
                }
            } catch let rejected as RejectedAction {
                metrics.action(rejected.action, "rejected")
                logger.error("plugin actions rejected, none applied", metadata: ["key": "\(key)", "error": "\(rejected)"])
                await events.record(key: key, primary: primary, reason: "ActionRejected", message: rejected.description)
                queue.addRateLimited(key)
                return "rejected"
            } catch let failed as ActionFailed {
                if failed.error.isConflict {
                    logger.debug("conflict while applying, reconciling again", metadata: ["key": "\(key)", "error": "\(failed)"])
                    queue.addRateLimited(key)
                    return "conflict"
                }
                logger.warning("applying actions failed", metadata: ["key": "\(key)", "error": "\(failed)"])
                await events.record(key: key, primary: primary, reason: "ActionFailed", message: failed.description)
                queue.addRateLimited(key)
                return "apply_error"
            } catch {
                logger.warning("applying actions failed", metadata: ["key": "\(key)", "error": "\(error)"])
                queue.addRateLimited(key)
                return "apply_error"
            }
            if let message = response.error {
                logger.warning("plugin reported an error", metadata: ["key": "\(key)", "attempt": "\(attempt)", "error": "\(message)"])
                await events.record(key: key, primary: primary, reason: "ReconcileError", message: message)
                queue.addRateLimited(key)
                return "plugin_error"
            }
            queue.forget(key)
            if let delay = response.requeueAfter { queue.add(key, after: delay) }
            return "success"
        }
    }
}

/// The update filters of a plugin's config.
enum EventFilter {
    static func passes(old: KubeObject, new: KubeObject, filters: EventFilters) -> Bool {
        let a = old.metadata, b = new.metadata
        let metadataChanged = a.labels != b.labels || a.annotations != b.annotations || a.finalizers != b.finalizers
            || a.deletionTimestamp != b.deletionTimestamp || a.ownerReferences != b.ownerReferences
        if filters.generationChangedOnly {
            return a.generation != b.generation || a.deletionTimestamp != b.deletionTimestamp || a.finalizers != b.finalizers
        }
        guard filters.skipStatusOnlyChanges, !metadataChanged else { return true }
        if a.generation > 0 || b.generation > 0 { return a.generation != b.generation }
        // No generation (ConfigMaps, Secrets, …): compare everything but status and server-set metadata.
        return stripped(old) != stripped(new)
    }

    static func stripped(_ object: KubeObject) -> JSON? {
        guard var json = try? object.json else { return nil }
        json["status"] = nil
        json[path: ["metadata", "resourceVersion"]] = nil
        json[path: ["metadata", "managedFields"]] = nil
        return json
    }
}
