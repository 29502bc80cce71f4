import KubeClient
import Synchronization

/// A function from an object to the index values it is filed under.
public typealias IndexFunction = @Sendable (KubeObject) -> [String]

/// The key of a cached object: `namespace/name`, or `name` when cluster scoped,
/// as client-go's `MetaNamespaceKeyFunc` makes it.
public func objectKey(_ metadata: ObjectMetadata) -> String {
    objectKey(namespace: metadata.namespace, name: metadata.name)
}

/// `namespace/name`, or `name` for a cluster-scoped object. Built by appending into a buffer of the
/// right size (cheaper than interpolation: the informer makes one per event, a controller one per reconcile).
public func objectKey(namespace: String, name: String) -> String {
    if namespace.isEmpty { return name }
    var key = ""
    key.reserveCapacity(namespace.utf8.count + 1 + name.utf8.count)
    key += namespace
    key += "/"
    key += name
    return key
}

/// The informer's cache: immutable objects by key, with indexes.
///
/// Invariants:
/// - `objects[key]` is the newest state the informer has seen of that object.
/// - for every index, `index[value]` holds exactly the keys of the objects whose
///   index function returns `value`; no value maps to an empty set.
/// Readers get values; nothing in the cache can be changed from outside.
public final class ObjectCache: Sendable {
    /// Index by namespace.
    public static let namespaceIndex = "namespace"
    /// Index by the UID of the controlling owner reference.
    public static let controllerIndex = "controller"

    struct State {
        var objects: [String: KubeObject] = [:]
        /// One per index, in `Indexers.names` order: index value → keys.
        var indexes: [[String: Set<String>]]

        init(indexCount: Int) { indexes = Array(repeating: [:], count: indexCount) }
    }

    /// The indexes by position: the built-in ones first (read from the metadata without a
    /// closure), then the extra ones in name order. Positions, not names, are what an object's
    /// insertion looks up.
    struct Indexers: Sendable {
        static let namespacePosition = 0
        static let controllerPosition = 1
        let names: [String]
        /// The extra index functions, at `names` positions from 2.
        let extra: [IndexFunction]
        let positions: [String: Int]

        init(extra extraIndexers: [String: IndexFunction]) {
            let extraNames = extraIndexers.keys.sorted()
            names = [ObjectCache.namespaceIndex, ObjectCache.controllerIndex] + extraNames
            extra = extraNames.map { extraIndexers[$0]! }
            positions = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        }
    }

    let indexers: Indexers
    private let state: Mutex<State>

    /// A cache with the namespace and controller indexes plus `extraIndexers`.
    public init(extraIndexers: [String: IndexFunction] = [:]) {
        for name in extraIndexers.keys {
            precondition(name != Self.namespaceIndex && name != Self.controllerIndex, "index \(name) is built in")
        }
        indexers = Indexers(extra: extraIndexers)
        state = Mutex(State(indexCount: indexers.names.count))
    }

    public var count: Int { state.withLock { $0.objects.count } }

    public func get(_ key: String) -> KubeObject? { state.withLock { $0.objects[key] } }

    public func get(namespace: String, name: String) -> KubeObject? { get(objectKey(namespace: namespace, name: name)) }

    public func list() -> [KubeObject] { state.withLock { Array($0.objects.values) } }

    public func keys() -> [String] { state.withLock { Array($0.objects.keys) } }

    /// The objects filed under `value` in the index `name`. An unknown index is a programming error.
    public func byIndex(_ name: String, _ value: String) -> [KubeObject] {
        guard let position = indexers.positions[name] else { preconditionFailure("no index named \(name)") }
        return state.withLock { state in
            (state.indexes[position][value] ?? []).compactMap { state.objects[$0] }
        }
    }

    /// Stores an object and returns the state it replaces.
    @discardableResult
    public func upsert(_ object: KubeObject) -> KubeObject? {
        let key = objectKey(object.metadata)
        return state.withLock { Self.upsert(object, key: key, into: &$0, indexers: indexers) }
    }

    /// Removes an object by key and returns it.
    @discardableResult
    public func remove(_ key: String) -> KubeObject? {
        state.withLock { Self.remove(key, from: &$0, indexers: indexers) }
    }

    /// Replaces the whole content (after a relist) and returns what was removed,
    /// so the informer can report deletions it missed while the watch was down.
    /// The new content is built aside and swapped in at once: readers see the
    /// old state or the new one, never a mix.
    public func replace(with objects: [KubeObject]) -> [KubeObject] {
        var replacement = makeReplacement(reservingCapacity: objects.count)
        for object in objects { replacement.upsert(object) }
        let current = replacement.state.objects
        return replace(with: replacement).compactMap { current[$0.key] == nil ? $0.value : nil }
    }

    /// A whole content for `replace(with:)`, built aside (a relist page by page, or a streaming
    /// list event by event) with this cache's indexes, while the cache goes on serving its
    /// current content.
    public func makeReplacement(reservingCapacity capacity: Int = 0) -> Replacement {
        var replacement = Replacement(indexers: indexers)
        replacement.reserveCapacity(capacity)
        return replacement
    }

    /// Swaps in `replacement` at once and returns the objects the cache held before, by key
    /// (released by the caller, outside the lock). The cache then shares its storage with
    /// `replacement`: let go of the replacement before the cache is next changed, or that change
    /// copies the whole content once.
    public func replace(with replacement: Replacement) -> [String: KubeObject] {
        precondition(replacement.indexers.names == indexers.names, "a replacement made by another cache")
        var fresh = replacement.state
        state.withLock { swap(&$0, &fresh) }
        return fresh.objects
    }

    /// The content of a cache, built aside: see `makeReplacement(reservingCapacity:)`.
    public struct Replacement: Sendable {
        var state: State
        let indexers: Indexers
        /// Keys in the order they were first stored.
        public internal(set) var order: [String] = []
        /// Whether a key was stored twice or removed: then `order` may name a key twice, or one no longer stored.
        public private(set) var reordered = false

        init(indexers: Indexers) {
            self.indexers = indexers
            state = State(indexCount: indexers.names.count)
        }

        /// Objects stored.
        public var count: Int { state.objects.count }

        /// Makes room for `capacity` objects in all, so that filling up to it does not grow (and
        /// rehash) the key table step by step. A paginated list knows its total from the first
        /// page's `remainingItemCount`.
        public mutating func reserveCapacity(_ capacity: Int) {
            state.objects.reserveCapacity(capacity)
            order.reserveCapacity(capacity)
        }

        /// The object stored under `key`, if any.
        public subscript(key: String) -> KubeObject? { state.objects[key] }

        /// Stores `object` (replacing one with its key).
        public mutating func upsert(_ object: KubeObject) {
            let key = objectKey(object.metadata)
            if ObjectCache.upsert(object, key: key, into: &state, indexers: indexers) == nil {
                order.append(key)
            } else {
                reordered = true
            }
        }

        /// Removes the object stored under `key`, if any.
        public mutating func remove(_ key: String) {
            if ObjectCache.remove(key, from: &state, indexers: indexers) != nil { reordered = true }
        }
    }

    // MARK: State changes (under the lock, or on a replacement's state)

    private static func upsert(_ object: KubeObject, key: String, into state: inout State, indexers: Indexers) -> KubeObject? {
        let old = state.objects.updateValue(object, forKey: key)
        if let old { unindex(old, key: key, state: &state, indexers: indexers) }
        index(object, key: key, state: &state, indexers: indexers)
        return old
    }

    private static func remove(_ key: String, from state: inout State, indexers: Indexers) -> KubeObject? {
        guard let old = state.objects.removeValue(forKey: key) else { return nil }
        unindex(old, key: key, state: &state, indexers: indexers)
        return old
    }

    /// Calls `body` with each index position and value `object` is filed under. The two built-in
    /// indexes read the metadata directly (no closure call, no array per object).
    @inline(__always)
    private static func forEachIndexValue(of object: KubeObject, indexers: Indexers, _ body: (Int, String) -> Void) {
        let metadata = object.metadata
        body(Indexers.namespacePosition, metadata.namespace)
        for reference in metadata.ownerReferences where reference.controller == true {
            body(Indexers.controllerPosition, reference.uid)
            break
        }
        for (offset, function) in indexers.extra.enumerated() {
            for value in function(object) { body(offset + 2, value) }
        }
    }

    private static func index(_ object: KubeObject, key: String, state: inout State, indexers: Indexers) {
        forEachIndexValue(of: object, indexers: indexers) { position, value in
            state.indexes[position][value, default: []].insert(key)
        }
    }

    private static func unindex(_ object: KubeObject, key: String, state: inout State, indexers: Indexers) {
        forEachIndexValue(of: object, indexers: indexers) { position, value in
            guard let index = state.indexes[position].index(forKey: value) else { return }
            state.indexes[position].values[index].remove(key)
            if state.indexes[position].values[index].isEmpty { state.indexes[position].remove(at: index) }
        }
    }
}
