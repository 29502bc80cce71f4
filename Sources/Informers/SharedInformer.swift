import KubeClient
import Logging
import Synchronization

/// What identifies one watch and one cache: however many plugins watch the
/// same thing, they share them.
public struct InformerKey: Hashable, Sendable, CustomStringConvertible {
    public var resource: GroupVersionResource
    /// nil for all namespaces (or a cluster-scoped resource).
    public var namespace: String?
    public var labelSelector: String?
    public var fieldSelector: String?

    public init(resource: GroupVersionResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    public var description: String {
        "\(resource) ns=\(namespace ?? "*") labels=\(labelSelector ?? "") fields=\(fieldSelector ?? "")"
    }
}

/// A handler of informer events. `resync` asks for the cached objects to be
/// delivered again as updates (old == new) every period, as controllers that
/// reconcile on a timer expect; handlers without it never see such updates.
public struct InformerHandler: Sendable {
    public var resync: Duration?
    public var handle: @Sendable (InformerEvent) async -> Void

    public init(resync: Duration? = nil, handle: @escaping @Sendable (InformerEvent) async -> Void) {
        self.resync = resync
        self.handle = handle
    }
}

/// One reflector and one cache, fanned out to any number of handlers. A
/// handler added after the first list gets the cached objects as adds first.
public final class SharedInformer: Sendable {
    public let key: InformerKey
    public let reflector: Reflector
    private let handlers = HandlerList()

    /// The handlers, shared with the reflector's callback.
    final class HandlerList: Sendable {
        let list = Mutex<[InformerHandler]>([])
        var current: [InformerHandler] { list.withLock { $0 } }
    }

    init(key: InformerKey, transport: Transport, configuration: ReflectorConfiguration, logger: Logger) {
        self.key = key
        let client = ResourceClient(transport: transport, resource: key.resource, namespace: key.namespace)
        let handlers = self.handlers
        self.reflector = Reflector(client: client, labelSelector: key.labelSelector, fieldSelector: key.fieldSelector,
                                   configuration: configuration, logger: logger) { event in
            for handler in handlers.current { await handler.handle(event) }
        }
    }

    public var cache: ObjectCache { reflector.cache }
    public var hasSynced: Bool { reflector.hasSynced }
    public func waitForSync() async { await reflector.waitForSync() }

    /// Adds a handler. Once the first list is in the cache (even while its events are still
    /// being handed out), the handler first gets the cached objects as adds: it may then see an
    /// object added twice, never miss one. Before that, the list's events reach it as they reach
    /// every handler.
    public func addHandler(_ handler: InformerHandler) async {
        let existing = handlers.list.withLock { handlers -> [KubeObject] in
            handlers.append(handler)
            return reflector.hasFilledCache ? reflector.cache.list() : []
        }
        for object in existing { await handler.handle(.added(object)) }
    }

    /// Runs the reflector and the resync timers until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.reflector.run() }
            group.addTask { await self.runResyncs() }
            await group.waitForAll()
        }
    }

    private func runResyncs() async {
        var last: [Int: ContinuousClock.Instant] = [:]
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
            guard reflector.hasSynced else { continue }
            let now = ContinuousClock.now
            for (index, handler) in handlers.current.enumerated() {
                guard let period = handler.resync else { continue }
                guard let previous = last[index] else {
                    last[index] = now
                    continue
                }
                guard now - previous >= period else { continue }
                last[index] = now
                for object in reflector.cache.list() { await handler.handle(.updated(old: object, new: object)) }
            }
        }
    }
}

/// Hands out one `SharedInformer` per `InformerKey`.
public final class SharedInformerFactory: Sendable {
    let transport: Transport
    let configuration: ReflectorConfiguration
    let logger: Logger
    private let informers = Mutex<[InformerKey: SharedInformer]>([:])

    public init(transport: Transport, configuration: ReflectorConfiguration = ReflectorConfiguration(),
                logger: Logger = Logger(label: "plugboard.informers"))
    {
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
    }

    /// The informer for `key`, made on first use.
    public func informer(for key: InformerKey) -> SharedInformer {
        informers.withLock { informers in
            if let existing = informers[key] { return existing }
            let informer = SharedInformer(key: key, transport: transport, configuration: configuration, logger: logger)
            informers[key] = informer
            return informer
        }
    }

    public var all: [SharedInformer] { informers.withLock { Array($0.values) } }

    /// Whether every informer made so far has listed once.
    public var hasSynced: Bool { all.allSatisfy(\.hasSynced) }
}
