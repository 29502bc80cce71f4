import KubeCore
import NIOCore

public enum WatchEventType: String, Sendable {
    case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
}

/// One write, as kept in the history for watches that resume.
struct HistoryEvent: Sendable {
    var resourceVersion: UInt64
    var resource: GroupResource
    var type: WatchEventType
    var key: ObjectKey
    /// The object after the write (for a delete: its final state).
    var object: StoredObject
    /// The object before the write; nil for a create.
    var previous: StoredObject?
}

/// An open watch: what it selects and where its events go.
/// Each message is one complete line of the watch stream.
final class Watcher: Sendable {
    let id: UInt64
    let info: ResourceInfo
    let version: String
    let namespace: String?
    let labels: LabelSelector
    let fields: FieldSelector
    let allowBookmarks: Bool
    let continuation: AsyncStream<[UInt8]>.Continuation

    init(id: UInt64, info: ResourceInfo, version: String, namespace: String?, options: WatchOptions,
         continuation: AsyncStream<[UInt8]>.Continuation)
    {
        self.id = id
        self.info = info
        self.version = version
        self.namespace = namespace
        self.labels = options.labelSelector
        self.fields = options.fieldSelector
        self.allowBookmarks = options.allowBookmarks
        self.continuation = continuation
    }

    func selects(_ object: StoredObject?) -> Bool {
        guard let object else { return false }
        if let namespace, object.key.namespace != namespace { return false }
        return object.matches(labels: labels, fields: fields)
    }
}

/// What a watch request gets: the state to send first as ADDED events (a streaming list, or a
/// watch without a resourceVersion), then the lines to send next (the closing bookmark of a
/// streaming list, replayed history, or a 410 ERROR), then the live stream.
struct WatchSubscription: Sendable {
    var initialState: InitialState? = nil
    var initial: [[UInt8]]
    var stream: AsyncStream<[UInt8]>?
    var cancel: @Sendable () -> Void
}

/// The objects a watch starts with, as they were when it registered. Taking it under the store's
/// lock costs two reference copies (the table and its sorted keys are copy-on-write); its lines are
/// rendered while the response is written, as kube-apiserver's watch cache sends initial events
/// while it walks its snapshot, so the first bytes leave at once and the whole state is never held
/// a second time as lines.
struct InitialState: Sendable {
    var keys: ArraySlice<ObjectKey>
    var objects: [ObjectKey: StoredObject]
    var labels: LabelSelector
    var fields: FieldSelector

    /// Calls `body` with each object the watch selects, in list order.
    func forEachSelected(_ body: (StoredObject) async throws -> Void) async rethrows {
        for key in keys {
            guard let object = objects[key], object.matches(labels: labels, fields: fields) else { continue }
            try await body(object)
        }
    }
}

enum WatchLine {
    static func encode(_ type: WatchEventType, objectBytes: [UInt8]) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(objectBytes.count + 32)
        line.append(contentsOf: #"{"type":""#.utf8)
        line.append(contentsOf: type.rawValue.utf8)
        line.append(contentsOf: #"","object":"#.utf8)
        line.append(contentsOf: objectBytes)
        line.append(contentsOf: "}\n".utf8)
        return line
    }

    /// Appends the line of `encode(type, objectBytes:)` to `buffer` without building it aside.
    static func write(_ type: WatchEventType, objectBytes: [UInt8], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: objectBytes.count + 32)
        buffer.writeString(#"{"type":""#)
        buffer.writeString(type.rawValue)
        buffer.writeString(#"","object":"#)
        buffer.writeBytes(objectBytes)
        buffer.writeString("}\n")
    }

    static func bookmark(_ info: ResourceInfo, version: String, resourceVersion: UInt64, initialEventsEnd: Bool = false) -> [UInt8] {
        var metadata: JSON = ["resourceVersion": .string(String(resourceVersion)), "creationTimestamp": .null]
        if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
        let object: JSON = ["kind": .string(info.kind), "apiVersion": .string(info.apiVersion(version)), "metadata": metadata]
        return encode(.bookmark, objectBytes: object.serialized())
    }

    static func error(_ error: APIError) -> [UInt8] {
        encode(.error, objectBytes: error.status.serialized())
    }
}

extension ObjectStore {
    /// Opens a watch. Everything the client must see first is computed under
    /// the lock together with the registration, so nothing falls in between.
    func watch(_ info: ResourceInfo, version: String, namespace: String?, options: WatchOptions) throws(APIError) -> WatchSubscription {
        try state.withLock { (state) throws(APIError) -> WatchSubscription in
            var initial: [[UInt8]] = []
            var initialState: InitialState?
            let rvText = options.resourceVersion ?? ""
            let sendInitial = options.sendInitialEvents ?? (rvText.isEmpty || rvText == "0")
            if options.sendInitialEvents == true {
                guard configuration.watchList else {
                    throw APIError(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                                   details: ["kind": "ListOptions", "group": "meta.k8s.io", "causes": [["reason": "FieldValueForbidden", "message": "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled", "field": "sendInitialEvents"]]])
                }
                guard options.resourceVersionMatch == "NotOlderThan" else {
                    throw APIError(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                                   details: ["kind": "ListOptions", "group": "meta.k8s.io", "causes": [["reason": "FieldValueForbidden", "message": "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan", "field": "resourceVersionMatch"]]])
                }
                guard options.allowBookmarks else {
                    throw APIError(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                                   details: ["kind": "ListOptions", "group": "meta.k8s.io", "causes": [["reason": "FieldValueForbidden", "message": "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true", "field": "allowWatchBookmarks"]]])
                }
            }
            if sendInitial {
                initialState = InitialState(keys: currentKeys(info.groupResource, in: namespace, state: &state),
                                            objects: state.tables[info.groupResource] ?? [:],
                                            labels: options.labelSelector, fields: options.fieldSelector)
                if options.sendInitialEvents == true {
                    initial.append(WatchLine.bookmark(info, version: version, resourceVersion: state.resourceVersion, initialEventsEnd: true))
                }
            } else {
                guard let rv = UInt64(rvText) else { throw APIError.badRequest("invalid resource version: \(rvText)") }
                if rv < state.compactedThrough {
                    let expired = APIError.gone("too old resource version: \(rv) (\(state.compactedThrough + 1))")
                    return WatchSubscription(initial: [WatchLine.error(expired)], stream: nil, cancel: {})
                }
                let probe = Watcher(id: 0, info: info, version: version, namespace: namespace, options: options,
                                    continuation: AsyncStream<[UInt8]>.makeStream().continuation)
                for event in state.history[state.historyStart...] where event.resourceVersion > rv && event.resource == info.groupResource {
                    if let line = line(for: event, watcher: probe) { initial.append(line) }
                }
            }
            let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(configuration.watcherBufferLimit))
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            let watcher = Watcher(id: id, info: info, version: version, namespace: namespace, options: options, continuation: continuation)
            state.watchers[info.groupResource, default: [:]][id] = watcher
            let resource = info.groupResource
            return WatchSubscription(initialState: initialState, initial: initial, stream: stream, cancel: { [weak self] in
                self?.removeWatcher(id, resource: resource)
            })
        }
    }

    func removeWatcher(_ id: UInt64, resource: GroupResource) {
        let watcher = state.withLock { $0.watchers[resource]?.removeValue(forKey: id) }
        watcher?.continuation.finish()
    }

    /// The event type a watcher sees for a write, or nil when the write is not for it.
    /// An object that starts matching the selector arrives as ADDED, one that
    /// stops matching as DELETED, as the real watch cache does.
    func eventType(for event: HistoryEvent, watcher: Watcher) -> WatchEventType? {
        let now = event.type == .deleted ? false : watcher.selects(event.object)
        let before = event.type == .added ? false : watcher.selects(event.previous)
        switch (before, now) {
        case (false, false): return nil
        case (false, true): return .added
        case (true, true): return .modified
        case (true, false): return .deleted
        }
    }

    func line(for event: HistoryEvent, watcher: Watcher) -> [UInt8]? {
        guard let type = eventType(for: event, watcher: watcher) else { return nil }
        return WatchLine.encode(type, objectBytes: render(event.object, info: watcher.info, version: watcher.version))
    }

    /// The object's bytes as served at `version` (only `apiVersion` differs between versions).
    func render(_ object: StoredObject, info: ResourceInfo, version: String) -> [UInt8] {
        if version == info.storageVersion { return object.bytes }
        var json = object.object
        json["apiVersion"] = .string(info.apiVersion(version))
        return json.serialized()
    }

    func deliver(_ event: HistoryEvent, info: ResourceInfo, state: inout State) {
        guard let watchers = state.watchers[event.resource], !watchers.isEmpty else { return }
        var shared: [WatchEventType: [UInt8]] = [:]
        var overflowed: [UInt64] = []
        for watcher in watchers.values {
            guard let type = eventType(for: event, watcher: watcher) else { continue }
            let bytes: [UInt8]
            if watcher.version == watcher.info.storageVersion {
                if let cached = shared[type] {
                    bytes = cached
                } else {
                    bytes = WatchLine.encode(type, objectBytes: event.object.bytes)
                    shared[type] = bytes
                }
            } else {
                bytes = WatchLine.encode(type, objectBytes: render(event.object, info: watcher.info, version: watcher.version))
            }
            if case .dropped = watcher.continuation.yield(bytes) { overflowed.append(watcher.id) }
        }
        // A watcher that fell too far behind is closed; its client resumes from the last
        // resourceVersion it saw, so nothing is lost.
        for id in overflowed {
            state.watchers[event.resource]?.removeValue(forKey: id)?.continuation.finish()
        }
    }

    /// Sends a BOOKMARK with the current resourceVersion to every watch that asked for them.
    public func sendBookmarks() {
        state.withLock { state in
            for (_, watchers) in state.watchers {
                for watcher in watchers.values where watcher.allowBookmarks {
                    _ = watcher.continuation.yield(WatchLine.bookmark(watcher.info, version: watcher.version, resourceVersion: state.resourceVersion))
                }
            }
        }
    }

    /// How many watches are open, per resource (for tests and diagnostics).
    public func openWatchCount(group: String, resource: String) -> Int {
        state.withLock { $0.watchers[GroupResource(group: group, resource: resource)]?.count ?? 0 }
    }

    /// Ends every open watch, as when the API server restarts or a connection drops.
    public func cutAllWatches() {
        let all = state.withLock { state -> [Watcher] in
            let all = state.watchers.values.flatMap(\.values)
            state.watchers = [:]
            return all
        }
        for watcher in all { watcher.continuation.finish() }
    }

    /// Ends the watches of one resource (its CRD was deleted).
    func closeWatches(_ resource: GroupResource, state: inout State) {
        for watcher in (state.watchers.removeValue(forKey: resource) ?? [:]).values { watcher.continuation.finish() }
    }

    /// Forgets the whole event history: a watch or continue token from before now gets 410 Gone.
    public func compactHistory() {
        state.withLock { state in
            state.compactedThrough = state.resourceVersion
            state.history = []
            state.historyStart = 0
        }
    }
}
