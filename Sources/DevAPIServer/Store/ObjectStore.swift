import Foundation
import KubeCore
import Synchronization

/// The dev server's whole state: served resources, objects, the event history
/// and open watches, behind one lock.
///
/// Invariants:
/// - `resourceVersion` is the version of the last write; every write takes the next number.
/// - `history` holds every event with a resourceVersion above `compactedThrough`, in order.
/// - every watcher has received, in order, each event after its start that matches it;
///   events are handed to watchers under the lock, so no two writes interleave.
/// - `dependents[uid]` lists every stored object with an owner reference to `uid`.
public final class ObjectStore: Sendable {
    public struct Configuration: Sendable {
        /// How many events are kept for watches that resume from a resourceVersion.
        /// A watch from before the window gets 410 Gone, as from a real server whose
        /// watch cache has moved on.
        public var historyLimit: Int = 10_000
        /// Events a watcher may have unread before the server closes it (the client
        /// then resumes from its last resourceVersion, as with a real server).
        public var watcherBufferLimit: Int = 100_000
        /// Streaming lists (`sendInitialEvents=true` on a watch), kube-apiserver's
        /// WatchList feature. Off, the server refuses them with 422, as a server with
        /// the feature gate disabled does, so clients' fallback to LIST can be tested.
        public var watchList = true

        public init() {}
    }

    struct State {
        var resourceVersion: UInt64 = 1
        var resources: ResourceRegistry
        var tables: [GroupResource: [ObjectKey: StoredObject]] = [:]
        var history: [HistoryEvent] = []
        var historyStart = 0
        var compactedThrough: UInt64 = 0
        var watchers: [GroupResource: [UInt64: Watcher]] = [:]
        var nextWatcherID: UInt64 = 1
        var dependents: [String: Set<ObjectRef>] = [:]
        /// The keys of each resource's table in order, kept between lists so that
        /// paging through a large list does not sort it again for every page.
        /// Dropped when a key comes or goes.
        var sortedKeys: [GroupResource: [ObjectKey]] = [:]
        var serviceIPs: UInt32 = 10
    }

    let configuration: Configuration
    let state: Mutex<State>

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.state = Mutex(State(resources: ResourceRegistry(BuiltinResources.all())))
        state.withLock { state in
            for name in BuiltinResources.initialNamespaces {
                let ns: JSON = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]]
                let info = state.resources.builtin("", "namespaces")
                let prepared = Admission.prepareCreate(ns, info: info, version: "v1", state: &state)
                commit(prepared, info: info, type: .added, previous: nil, state: &state)
            }
        }
    }

    /// The newest resourceVersion.
    public var currentResourceVersion: UInt64 { state.withLock { $0.resourceVersion } }

    /// Looks up a served resource by group, version and plural name.
    public func resource(group: String, version: String, resource: String) -> ResourceInfo? {
        state.withLock { $0.resources.lookup(group: group, version: version, resource: resource) }
    }

    /// Every served resource, for discovery.
    public func allResources() -> [ResourceInfo] {
        state.withLock { $0.resources.all }
    }

    // MARK: Reads

    func get(_ info: ResourceInfo, key: ObjectKey) throws(APIError) -> StoredObject {
        let found = state.withLock { $0.tables[info.groupResource]?[key] }
        guard let found else { throw APIError.notFound(info, name: key.name) }
        return found
    }

    struct ListResult {
        var resourceVersion: UInt64
        var items: [StoredObject]
        var continueToken: String?
        var remainingItemCount: Int?
    }

    func list(_ info: ResourceInfo, namespace: String?, options: ListOptions) throws(APIError) -> ListResult {
        try state.withLock { (state) throws(APIError) -> ListResult in
            var snapshotRV = state.resourceVersion
            var startAfter: ObjectKey?
            if let token = options.continueToken {
                let decoded = try ContinueToken(decoding: token)
                if decoded.resourceVersion < state.compactedThrough {
                    throw APIError.gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
                }
                snapshotRV = decoded.resourceVersion
                startAfter = ObjectKey(tokenForm: decoded.start)
            } else if let rvText = options.resourceVersion, !rvText.isEmpty, rvText != "0" {
                guard let rv = UInt64(rvText) else {
                    throw APIError.badRequest("invalid resource version: \(rvText)")
                }
                if rv > state.resourceVersion {
                    throw APIError(code: 504, reason: "Timeout", message: "Too large resource version: \(rv), current: \(state.resourceVersion)",
                                   details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]], "retryAfterSeconds": 1])
                }
                if options.resourceVersionMatch == "Exact" {
                    if rv < state.compactedThrough {
                        throw APIError.gone("The resourceVersion for the provided list is too old.")
                    }
                    snapshotRV = rv
                }
            }
            var objects: [ObjectKey: StoredObject] = state.tables[info.groupResource] ?? [:]
            var keys: ArraySlice<ObjectKey>
            if snapshotRV < state.resourceVersion {
                objects = snapshot(objects, resource: info.groupResource, at: snapshotRV, state: state)
                keys = Self.keys(objects.keys.sorted(), in: namespace)
            } else {
                keys = currentKeys(info.groupResource, in: namespace, state: &state)
            }
            if let startAfter {
                keys = keys[keys.partitioningIndex { $0 > startAfter }...]
            }
            var items: [StoredObject] = []
            var continueToken: String?
            var remaining: Int?
            for (i, key) in zip(keys.indices, keys) {
                let object = objects[key]!
                guard object.matches(labels: options.labelSelector, fields: options.fieldSelector) else { continue }
                if options.limit > 0 && items.count == options.limit {
                    continueToken = ContinueToken(resourceVersion: snapshotRV, start: items.last!.key.tokenForm).encoded()
                    if options.labelSelector.isEmpty && options.fieldSelector.isEmpty { remaining = keys.endIndex - i }
                    break
                }
                items.append(object)
            }
            return ListResult(resourceVersion: snapshotRV, items: items, continueToken: continueToken, remainingItemCount: remaining)
        }
    }

    /// The current keys of `resource` in list order, kept sorted between calls until a create or a
    /// delete, limited to `namespace` when one is given.
    func currentKeys(_ resource: GroupResource, in namespace: String?, state: inout State) -> ArraySlice<ObjectKey> {
        let sorted: [ObjectKey]
        if let cached = state.sortedKeys[resource] {
            sorted = cached
        } else {
            sorted = (state.tables[resource] ?? [:]).keys.sorted()
            state.sortedKeys[resource] = sorted
        }
        return Self.keys(sorted, in: namespace)
    }

    /// Keys sort by namespace first, so one namespace is one contiguous range.
    private static func keys(_ sorted: [ObjectKey], in namespace: String?) -> ArraySlice<ObjectKey> {
        guard let namespace else { return sorted[...] }
        let lower = sorted.partitioningIndex { $0.namespace >= namespace }
        let upper = sorted[lower...].partitioningIndex { $0.namespace > namespace }
        return sorted[lower..<upper]
    }

    /// The objects of one resource as they were at `rv`, rebuilt from the
    /// current objects by undoing the events after `rv`, newest first.
    private func snapshot(_ current: [ObjectKey: StoredObject], resource: GroupResource, at rv: UInt64, state: State) -> [ObjectKey: StoredObject] {
        var objects = current
        var i = state.history.count - 1
        while i >= state.historyStart {
            let event = state.history[i]
            if event.resourceVersion <= rv { break }
            if event.resource == resource {
                objects[event.key] = event.previous
            }
            i -= 1
        }
        return objects
    }

    // MARK: Commit and events

    /// Stores (or, with `type == .deleted`, removes) an object under the next
    /// resourceVersion, records the event and hands it to the watchers.
    @discardableResult
    func commit(_ object: JSON, info: ResourceInfo, type: WatchEventType, previous: StoredObject?, state: inout State) -> StoredObject {
        state.resourceVersion += 1
        let rv = state.resourceVersion
        var object = object
        object[path: ["metadata", "resourceVersion"]] = .string(String(rv))
        let stored = StoredObject(object, resourceVersion: rv)
        let resource = info.groupResource
        let ref = ObjectRef(resource: resource, key: stored.key)
        if let previous {
            for owner in previous.ownerReferences.compactMap({ $0["uid"]?.stringValue }) {
                state.dependents[owner]?.remove(ref)
                if state.dependents[owner]?.isEmpty == true { state.dependents[owner] = nil }
            }
        }
        if type == .deleted || previous == nil { state.sortedKeys[resource] = nil }
        if type == .deleted {
            state.tables[resource]?[stored.key] = nil
        } else {
            state.tables[resource, default: [:]][stored.key] = stored
            for owner in stored.ownerReferences.compactMap({ $0["uid"]?.stringValue }) {
                state.dependents[owner, default: []].insert(ref)
            }
        }
        let event = HistoryEvent(resourceVersion: rv, resource: resource, type: type, key: stored.key, object: stored, previous: previous)
        state.history.append(event)
        if state.history.count - state.historyStart > configuration.historyLimit {
            state.compactedThrough = state.history[state.historyStart].resourceVersion
            state.historyStart += 1
            if state.historyStart > 4096 && state.historyStart * 2 > state.history.count {
                state.history.removeFirst(state.historyStart)
                state.historyStart = 0
            }
        }
        deliver(event, info: info, state: &state)
        return stored
    }
}

/// A reference to one stored object of any resource.
struct ObjectRef: Hashable, Sendable {
    var resource: GroupResource
    var key: ObjectKey
}

extension RandomAccessCollection {
    /// The index of the first element for which `predicate` holds, in a
    /// collection partitioned so that it holds for a suffix.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Index {
        var low = startIndex
        var length = count
        while length > 0 {
            let half = length / 2
            let mid = index(low, offsetBy: half)
            if predicate(self[mid]) {
                length = half
            } else {
                low = index(after: mid)
                length -= half + 1
            }
        }
        return low
    }
}
