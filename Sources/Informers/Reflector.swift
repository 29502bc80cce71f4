import KubeClient
import Logging
import Synchronization

/// What a reflector tells its handler about the objects it keeps.
public enum InformerEvent: Sendable {
    case added(KubeObject)
    case updated(old: KubeObject, new: KubeObject)
    /// `finalStateUnknown`: the object vanished while the watch was down and was
    /// found missing on relist; `object` is the last state the cache had
    /// (client-go's `DeletedFinalStateUnknown`).
    case deleted(KubeObject, finalStateUnknown: Bool)
}

/// Settings of a reflector, with client-go's defaults and the reasons.
public struct ReflectorConfiguration: Sendable {
    /// Page size of the initial and re-lists: 500, as client-go.
    public var pageSize = 500
    /// Backoff after failures: 0.8 s doubling to 30 s with jitter, as client-go.
    public var initialBackoff: Duration = .milliseconds(800)
    public var maxBackoff: Duration = .seconds(30)
    /// Server-side timeout of each watch, chosen at random in this range (client-go:
    /// 5 to 10 minutes) so that many informers do not reconnect at once.
    public var watchTimeoutSeconds: ClosedRange<Int> = 300...600
    /// Cut `metadata.managedFields` out of cached objects: they are large and no
    /// controller reads them.
    public var cutManagedFields = true
    /// Log progress every this many listed objects.
    public var progressEvery = 10_000
    /// Take the initial state as a streaming list (a watch with
    /// `sendInitialEvents=true`, kube-apiserver's WatchList) instead of paginated
    /// LISTs. A server that refuses it, or does not end the initial events with
    /// the `k8s.io/initial-events-end` bookmark, is listed instead from then on.
    public var streamingList = true
    /// Applied to every object on its way into the cache, after the
    /// `managedFields` cut: drop what the handlers never read, to save memory.
    /// It must keep the metadata (name, namespace, resourceVersion) intact.
    public var transform: (@Sendable (KubeObject) -> KubeObject)?

    public init() {}
}

/// Keeps an `ObjectCache` equal to the server's state of one resource (with
/// optional selectors) and reports every change.
///
/// The loop is a state machine:
/// - `listing`: a paginated LIST; the cache is replaced by the result, objects
///   that vanished are reported as final-state-unknown deletes. Then `watching`
///   from the list's resourceVersion. A failure backs off and lists again.
/// - `watching(from:)`: a WATCH with bookmarks from that resourceVersion; each
///   event updates the cache and is reported. A normal end (server timeout,
///   cut connection) watches again from the last resourceVersion seen. 410 Gone
///   (history compacted) lists again; other failures back off first.
public final class Reflector: Sendable {
    enum State: Equatable {
        case listing
        case streaming
        case watching(from: String)
    }

    /// The server does not do streaming lists; LIST instead.
    struct StreamingListUnsupported: Error, CustomStringConvertible {
        var reason: String
        var description: String { "streaming list not supported by the server: \(reason)" }
    }

    public let client: ResourceClient
    public let labelSelector: String?
    public let fieldSelector: String?
    public let cache: ObjectCache
    let configuration: ReflectorConfiguration
    let handler: @Sendable (InformerEvent) async -> Void
    let logger: Logger
    let metrics: ReflectorMetrics
    private let synced = Mutex(false)
    private let filled = Mutex(false)
    private let syncWaiters = Mutex<[CheckedContinuation<Void, Never>]>([])

    public init(client: ResourceClient, labelSelector: String? = nil, fieldSelector: String? = nil, cache: ObjectCache = ObjectCache(),
                configuration: ReflectorConfiguration = ReflectorConfiguration(), logger: Logger = Logger(label: "plugboard.reflector"),
                handler: @escaping @Sendable (InformerEvent) async -> Void)
    {
        self.client = client
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.cache = cache
        self.configuration = configuration
        self.handler = handler
        var logger = logger
        logger[metadataKey: "resource"] = "\(client.resource)"
        self.logger = logger
        self.metrics = ReflectorMetrics(resource: client.resource, namespace: client.namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
    }

    /// Whether the first list has been stored.
    public var hasSynced: Bool { synced.withLock { $0 } }

    /// Whether the cache holds a listed state: true from the moment the first list (or streaming
    /// list) is swapped in, before its events have all been handed to the handler (or, when
    /// resuming, from the start). A handler registered from then on must be given the cache's
    /// content, as the events handed out before it came are not handed out again.
    var hasFilledCache: Bool { filled.withLock { $0 } }

    /// Returns once the first list has been stored.
    public func waitForSync() async {
        await withCheckedContinuation { continuation in
            let done = syncWaiters.withLock { waiters -> Bool in
                if hasSynced { return true }
                waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Runs until the task is cancelled.
    public func run() async {
        await run(from: nil)
    }

    /// Runs until the task is cancelled, for a cache that already holds the
    /// state at `resourceVersion` (restored from elsewhere): watches from there
    /// and counts as synced at once. A 410 Gone falls back to a full list.
    public func run(resumingFrom resourceVersion: String) async {
        filled.withLock { $0 = true }
        markSynced()
        await run(from: resourceVersion)
    }

    private func run(from resumeVersion: String?) async {
        var streaming = configuration.streamingList
        var initial: State { streaming ? .streaming : .listing }
        var state = resumeVersion.map { State.watching(from: $0) } ?? initial
        var failures = 0
        var listReason = ReflectorMetrics.ListReason.initial
        while !Task.isCancelled {
            do {
                let next: State
                switch state {
                case .listing:
                    metrics.listed(listReason)
                    next = .watching(from: try await listAndReplace())
                    markSynced()
                case .streaming:
                    next = try await streamAndWatch(reason: listReason)
                case .watching(let from):
                    next = try await watch(from: from)
                }
                // How the watch that ran (after a stream, or on its own) ended.
                switch (state, next) {
                case (.listing, _): break
                case (_, .watching): metrics.watchRestarted(.closed)
                default:
                    metrics.watchRestarted(.expired)
                    listReason = .expired
                }
                state = next == .listing || next == .streaming ? initial : next
                failures = 0
            } catch is CancellationError {
                return
            } catch let unsupported as StreamingListUnsupported {
                logger.info("listing instead of streaming", metadata: ["reason": "\(unsupported.reason)"])
                streaming = false
                state = .listing
            } catch {
                failures += 1
                let delay = backoff(failures)
                logger.warning("reflector failed, retrying", metadata: ["error": "\(error)", "retryIn": "\(delay)", "failures": "\(failures)"])
                if case .watching = state {
                    let gone = (error as? KubeAPIError)?.isGone == true
                    metrics.watchRestarted(gone ? .expired : .error)
                    if gone {
                        state = initial
                        listReason = .expired
                    }
                } else {
                    listReason = .error
                }
                do { try await Task.sleep(for: delay) } catch { return }
            }
        }
    }

    private func markSynced() {
        metrics.synced.record(1)
        metrics.objects.record(Double(cache.count))
        let waiters = synced.withLock { wasSynced -> [CheckedContinuation<Void, Never>] in
            if wasSynced { return [] }
            wasSynced = true
            return syncWaiters.withLock { w in defer { w = [] }; return w }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Exponential backoff with full jitter on top, bounded by `maxBackoff`.
    func backoff(_ failures: Int) -> Duration {
        let base = min(configuration.initialBackoff * (1 << min(failures - 1, 16)), configuration.maxBackoff)
        return min(base + base * Double.random(in: 0..<1), configuration.maxBackoff)
    }

    /// A full paginated list; returns its resourceVersion.
    ///
    /// Pages are fetched one ahead: as soon as a page has arrived, its continue token is read (without
    /// decoding the items) and the next page is asked for, so the server prepares and sends it while this
    /// one is decoded. When the token cannot be read ahead (`metadata` after `items`), pages go one by one.
    /// Each page's objects go into the cache's replacement (keys, indexes) as it is decoded, so that work
    /// too overlaps the fetching of the next page; the replacement is swapped in once the list is complete.
    private func listAndReplace() async throws -> String {
        var items = cache.makeReplacement()
        var resourceVersion = ""
        var nextProgress = configuration.progressEvery
        // The page being fetched, and the continue token it was asked with (nil: the first page).
        var requested: String? = nil
        var fetch: Task<[UInt8], any Error>? = fetchPage(nil)
        defer { fetch?.cancel() }
        while let current = fetch {
            let body: [UInt8]
            do {
                body = try await withTaskCancellationHandler { try await current.value } onCancel: { current.cancel() }
            } catch let error as KubeAPIError where error.isGone && requested != nil {
                // The continue token outlived the server's history: start the list again.
                logger.info("continue token expired, listing again from the start")
                items = cache.makeReplacement()
                requested = nil
                fetch = fetchPage(nil)
                continue
            }
            let pageToken = requested
            switch KubeObjectList.nextPage(of: body) {
            case .next(let token):
                requested = token
                fetch = fetchPage(token)
            case .none:
                requested = nil
                fetch = nil
            case .unknown:
                fetch = nil
            }
            let page = try KubeObjectList.decode(bytes: body, cutManagedFields: configuration.cutManagedFields)
            if pageToken == nil {
                items.reserveCapacity(Self.listCapacity(firstPage: page.items.count, remaining: page.remainingItemCount, cached: cache.count))
            }
            for object in page.items { items.upsert(transformed(object)) }
            if pageToken == nil || !page.resourceVersion.isEmpty { resourceVersion = page.resourceVersion }
            if items.count >= nextProgress {
                logger.info("listing", metadata: ["objects": "\(items.count)"])
                nextProgress += configuration.progressEvery
            }
            // The decoded token decides (the one read ahead is the same whenever one could be read).
            if page.continueToken != requested || (fetch == nil && page.continueToken != nil) {
                fetch?.cancel()
                requested = page.continueToken
                fetch = page.continueToken.map { fetchPage($0) }
            }
        }
        await replaceAll(with: items)
        logger.debug("listed", metadata: ["objects": "\(items.count)", "resourceVersion": "\(resourceVersion)"])
        return resourceVersion
    }

    /// Room to reserve for a whole list: the first page and what the server says remains (else the
    /// cache's current size). The server's figure is only a hint: a negative one counts as none, and
    /// at most `maxListReserve` more objects are reserved, so that a wrong reply cannot make the
    /// informer ask for memory it will never fill.
    static func listCapacity(firstPage: Int, remaining: Int64?, cached: Int) -> Int {
        let more = remaining.map { Int(clamping: max($0, 0)) } ?? cached
        return firstPage + min(more, maxListReserve)
    }

    /// The most objects a list's first page makes room for beyond itself.
    static let maxListReserve = 1_000_000

    /// Starts fetching one page of the list (its body, not decoded).
    private func fetchPage(_ continueToken: String?) -> Task<[UInt8], any Error> {
        let options = ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector,
                                  limit: configuration.pageSize, continueToken: continueToken)
        return Task { [client] in try await client.list(options) }
    }

    /// Replaces the cache with a full state and reports the difference, in the
    /// order the objects came: new objects as adds, changed ones as updates;
    /// then vanished ones as final-state-unknown deletes. An object whose
    /// resourceVersion did not change is not reported.
    private func replaceAll(with items: ObjectCache.Replacement) async {
        let previous = cache.replace(with: items)
        filled.withLock { $0 = true }
        metrics.objects.record(Double(items.count))
        let table = items.state.table
        let before = previous.state.table
        // In the order the objects arrived (a key that came twice, at its first place).
        let ahead = 8
        for slot in 0..<table.slotCount {
            if slot + ahead < table.slotCount { table.prefetchObject(atSlot: slot + ahead) }
            guard let object = table.object(atSlot: slot) else { continue }
            if before.count > 0, let old = before.object(withKeyOf: slot, in: table) {
                if old.metadata.resourceVersion != object.metadata.resourceVersion { await handler(.updated(old: old, new: object)) }
            } else {
                await handler(.added(object))
            }
        }
        for old in before.objects(missingFrom: table) { await handler(.deleted(old, finalStateUnknown: true)) }
    }

    private func transformed(_ object: KubeObject) -> KubeObject {
        configuration.transform.map { $0(object) } ?? object
    }

    /// A streaming list: one watch whose first events are the current state,
    /// ended by a bookmark annotated `k8s.io/initial-events-end`. The state is
    /// collected aside and then replaces the cache as a list would, so a
    /// streaming list that fails half way leaves the cache as it was. The same
    /// watch then goes on as a normal one.
    private func streamAndWatch(reason: ReflectorMetrics.ListReason) async throws -> State {
        let timeout = Int.random(in: configuration.watchTimeoutSeconds)
        let batches: AsyncThrowingStream<[WatchEvent], any Error>
        do {
            batches = try await client.watchBatches(WatchOptions(labelSelector: labelSelector, fieldSelector: fieldSelector, allowBookmarks: true,
                                                         sendInitialEvents: true, timeoutSeconds: timeout),
                                            cutManagedFields: configuration.cutManagedFields)
        } catch let error as KubeAPIError where error.code == 400 || error.code == 422 || error.code == 501 {
            throw StreamingListUnsupported(reason: "\(error.code) \(error.message)")
        }
        metrics.listed(reason)
        // A stream does not announce its size: a relist reserves the size of the state it replaces.
        var initial = cache.makeReplacement(reservingCapacity: cache.count)
        var nextProgress = configuration.progressEvery
        var iterator = batches.makeAsyncIterator()
        while let batch = try await iterator.next() {
          for (position, event) in batch.enumerated() {
            switch event {
            case .added(let object), .modified(let object):
                initial.upsert(transformed(object))
                if initial.count >= nextProgress {
                    logger.info("streaming list", metadata: ["objects": "\(initial.count)"])
                    nextProgress += configuration.progressEvery
                }
            case .deleted(let object):
                initial.remove(objectKey(object.metadata))
            case .bookmark(let object):
                guard object.metadata.annotations["k8s.io/initial-events-end"] == "true" else {
                    throw StreamingListUnsupported(reason: "a bookmark came before the end of the initial events")
                }
                await replaceAll(with: initial)
                initial = cache.makeReplacement()
                markSynced()
                logger.debug("streamed list", metadata: ["objects": "\(cache.count)", "resourceVersion": "\(object.metadata.resourceVersion)"])
                return try await follow(&iterator, pending: batch[(position + 1)...], from: object.metadata.resourceVersion)
            case .error(let status):
                if status.code == 410 { return .streaming }
                throw KubeAPIError(code: Int(status.code ?? 500), reason: status.reason ?? "Unknown", message: status.message ?? "watch error")
            }
          }
        }
        // The server ended the watch before the state was complete (its timeout,
        // a cut connection): start again.
        throw KubeAPIError(code: 500, reason: "InternalError", message: "the streaming list ended before its initial-events-end bookmark")
    }

    /// One watch; returns the state to go to when it ends normally.
    private func watch(from resourceVersion: String) async throws -> State {
        let timeout = Int.random(in: configuration.watchTimeoutSeconds)
        let batches = try await client.watchBatches(WatchOptions(labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: resourceVersion,
                                                                 allowBookmarks: true, timeoutSeconds: timeout),
                                                    cutManagedFields: configuration.cutManagedFields)
        var iterator = batches.makeAsyncIterator()
        return try await follow(&iterator, pending: [], from: resourceVersion)
    }

    /// Applies watch events to the cache and reports them until the watch ends:
    /// first `pending` (the rest of a batch already taken), then what arrives.
    private func follow(_ batches: inout AsyncThrowingStream<[WatchEvent], any Error>.AsyncIterator, pending: ArraySlice<WatchEvent>,
                        from resourceVersion: String) async throws -> State {
        var last = resourceVersion
        var batch = pending
        while true {
          for event in batch {
            switch event {
            case .added(let object), .modified(let object):
                let object = transformed(object)
                if let old = cache.upsert(object) {
                    await handler(.updated(old: old, new: object))
                } else {
                    await handler(.added(object))
                }
                last = object.metadata.resourceVersion
            case .deleted(let object):
                let object = transformed(object)
                cache.remove(objectKey(object.metadata))
                await handler(.deleted(object, finalStateUnknown: false))
                last = object.metadata.resourceVersion
            case .bookmark(let object):
                if !object.metadata.resourceVersion.isEmpty { last = object.metadata.resourceVersion }
            case .error(let status):
                if status.code == 410 {
                    logger.info("watch history expired, listing again", metadata: ["message": "\(status.message ?? "")"])
                    return .listing
                }
                throw KubeAPIError(code: Int(status.code ?? 500), reason: status.reason ?? "Unknown", message: status.message ?? "watch error")
            }
          }
          metrics.objects.record(Double(cache.count))
          guard let next = try await batches.next() else { return .watching(from: last) }
          batch = next[...]
        }
    }
}
