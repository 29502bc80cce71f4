import KubeClient
import Synchronization

/// A function from an object to the index values it is filed under.
public typealias IndexFunction = @Sendable (KubeObject) -> [String]

/// The key of a cached object: `namespace/name`, or `name` when cluster scoped,
/// as client-go's `MetaNamespaceKeyFunc` makes it.
public func objectKey(_ metadata: ObjectMetadata) -> String {
    objectKey(namespace: metadata.namespace, name: metadata.name)
}

/// The key of a cached object, read from its metadata box field by field (no copy of the metadata).
func objectKey(_ object: KubeObject) -> String {
    objectKey(namespace: object.metadata.namespace, name: object.metadata.name)
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
/// - the table holds, under each key, the newest state the informer has seen of that object.
/// - for every index, `index[value]` holds exactly the slots of the objects whose
///   index function returns `value`; no value maps to an empty set.
/// Readers get values; nothing in the cache can be changed from outside.
///
/// Objects live in an `ObjectTable` (slots found through a table that keeps each key's hash), and
/// the indexes hold slot numbers: filing an object costs no string hashing or comparing beyond the
/// index value itself.
public final class ObjectCache: Sendable {
    /// Index by namespace.
    public static let namespaceIndex = "namespace"
    /// Index by the UID of the controlling owner reference.
    public static let controllerIndex = "controller"

    struct State: Sendable {
        var table: ObjectTable
        /// One per index, in `Indexers.names` order: index value → slots.
        var indexes: [[String: SlotSet]]

        init(indexCount: Int, reusesSlots: Bool) {
            table = ObjectTable(reusesSlots: reusesSlots)
            indexes = Array(repeating: [:], count: indexCount)
        }
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
        state = Mutex(State(indexCount: indexers.names.count, reusesSlots: true))
    }

    public var count: Int { state.withLock { $0.table.count } }

    public func get(_ key: String) -> KubeObject? {
        let hash = KeyHash.hash(key)
        return state.withLock { $0.table.object(forKey: key, hash: hash) }
    }

    public func get(namespace: String, name: String) -> KubeObject? { get(objectKey(namespace: namespace, name: name)) }

    public func list() -> [KubeObject] { state.withLock { $0.table.objects } }

    public func keys() -> [String] { state.withLock { $0.table.keys } }

    /// The objects filed under `value` in the index `name`. An unknown index is a programming error.
    public func byIndex(_ name: String, _ value: String) -> [KubeObject] {
        guard let position = indexers.positions[name] else { preconditionFailure("no index named \(name)") }
        return state.withLock { state in
            guard let slots = state.indexes[position][value] else { return [] }
            var objects: [KubeObject] = []
            objects.reserveCapacity(slots.count)
            slots.forEach { slot in if let object = state.table.object(atSlot: slot) { objects.append(object) } }
            return objects
        }
    }

    /// Stores an object and returns the state it replaces.
    @discardableResult
    public func upsert(_ object: KubeObject) -> KubeObject? {
        let key = objectKey(object)
        let hash = KeyHash.hash(key)
        return state.withLock { Self.upsert(object, key: key, hash: hash, into: &$0, indexers: indexers) }
    }

    /// Removes an object by key and returns it.
    @discardableResult
    public func remove(_ key: String) -> KubeObject? {
        let hash = KeyHash.hash(key)
        return state.withLock { Self.remove(key, hash: hash, from: &$0, indexers: indexers) }
    }

    /// Replaces the whole content (after a relist) and returns what was removed,
    /// so the informer can report deletions it missed while the watch was down.
    /// The new content is built aside and swapped in at once: readers see the
    /// old state or the new one, never a mix.
    public func replace(with objects: [KubeObject]) -> [KubeObject] {
        var replacement = makeReplacement(reservingCapacity: objects.count)
        for object in objects { replacement.upsert(object) }
        return replace(with: replacement).state.table.objects(missingFrom: replacement.state.table)
    }

    /// A whole content for `replace(with:)`, built aside (a relist page by page, or a streaming
    /// list event by event) with this cache's indexes, while the cache goes on serving its
    /// current content.
    public func makeReplacement(reservingCapacity capacity: Int = 0) -> Replacement {
        var replacement = Replacement(indexers: indexers)
        replacement.reserveCapacity(capacity)
        return replacement
    }

    /// Swaps in `replacement` at once and returns what the cache held before (released by the
    /// caller, outside the lock). The cache then shares its storage with `replacement`: let go of
    /// the replacement before the cache is next changed, or that change copies the whole content once.
    public func replace(with replacement: Replacement) -> Contents {
        precondition(replacement.indexers.names == indexers.names, "a replacement made by another cache")
        var fresh = replacement.state
        // A live cache takes freed slots again; a replacement kept them in arrival order.
        fresh.table.reusesSlots = true
        state.withLock { swap(&$0, &fresh) }
        return Contents(state: fresh)
    }

    /// A whole content of a cache, as `replace(with:)` swaps it out.
    public struct Contents: Sendable {
        let state: State

        /// Objects held.
        public var count: Int { state.table.count }
        /// The object held under `key`, if any.
        public subscript(key: String) -> KubeObject? { state.table.object(forKey: key) }
        /// The objects held, in no particular order.
        public var objects: [KubeObject] { state.table.objects }
    }

    /// The content of a cache, built aside: see `makeReplacement(reservingCapacity:)`.
    public struct Replacement: Sendable {
        var state: State
        let indexers: Indexers

        init(indexers: Indexers) {
            self.indexers = indexers
            // Slots are not reused while building: slot order is the order keys were first stored.
            state = State(indexCount: indexers.names.count, reusesSlots: false)
        }

        /// Objects stored.
        public var count: Int { state.table.count }

        /// Makes room for `capacity` objects in all, so that filling up to it does not grow (and
        /// re-file) the key table step by step. A paginated list knows its total from the first
        /// page's `remainingItemCount`.
        public mutating func reserveCapacity(_ capacity: Int) {
            state.table.reserveCapacity(capacity)
        }

        /// The object stored under `key`, if any.
        public subscript(key: String) -> KubeObject? { state.table.object(forKey: key) }

        /// The objects stored, in the order their keys were first stored (a key stored again keeps
        /// its place; one removed and stored again takes a new place).
        public var objects: [KubeObject] { state.table.objects }

        /// Stores `object` (replacing one with its key).
        public mutating func upsert(_ object: KubeObject) {
            let key = objectKey(object)
            ObjectCache.upsert(object, key: key, hash: KeyHash.hash(key), into: &state, indexers: indexers)
        }

        /// Removes the object stored under `key`, if any.
        public mutating func remove(_ key: String) {
            ObjectCache.remove(key, hash: KeyHash.hash(key), from: &state, indexers: indexers)
        }
    }

    // MARK: State changes (under the lock, or on a replacement's state)

    @discardableResult
    private static func upsert(_ object: KubeObject, key: String, hash: UInt64, into state: inout State, indexers: Indexers) -> KubeObject? {
        let (slot, old) = state.table.upsert(object, key: key, hash: hash)
        // The namespace is part of the key: an object stored again stays under the same one.
        if let old { unindex(old, slot: slot, state: &state, indexers: indexers, namespace: false) }
        index(object, slot: slot, state: &state, indexers: indexers, namespace: old == nil)
        return old
    }

    @discardableResult
    private static func remove(_ key: String, hash: UInt64, from state: inout State, indexers: Indexers) -> KubeObject? {
        guard let (slot, old) = state.table.remove(key: key, hash: hash) else { return nil }
        unindex(old, slot: slot, state: &state, indexers: indexers, namespace: true)
        return old
    }

    /// Calls `body` with each index position and value `object` is filed under. The two built-in
    /// indexes read the metadata directly (no closure call, no array per object).
    @inline(__always)
    private static func forEachIndexValue(of object: KubeObject, indexers: Indexers, namespace: Bool, _ body: (Int, String) -> Void) {
        // Field by field: `let metadata = object.metadata` would copy (retain and release) every
        // string, dictionary and array of it.
        if namespace { body(Indexers.namespacePosition, object.metadata.namespace) }
        if let controller = object.metadata.controllerUID { body(Indexers.controllerPosition, controller) }
        for (offset, function) in indexers.extra.enumerated() {
            for value in function(object) { body(offset + 2, value) }
        }
    }

    private static func index(_ object: KubeObject, slot: Int, state: inout State, indexers: Indexers, namespace: Bool) {
        forEachIndexValue(of: object, indexers: indexers, namespace: namespace) { position, value in
            state.indexes[position][value, default: SlotSet()].insert(slot)
        }
    }

    private static func unindex(_ object: KubeObject, slot: Int, state: inout State, indexers: Indexers, namespace: Bool) {
        forEachIndexValue(of: object, indexers: indexers, namespace: namespace) { position, value in
            guard let index = state.indexes[position].index(forKey: value) else { return }
            state.indexes[position].values[index].remove(slot)
            if state.indexes[position].values[index].isEmpty { state.indexes[position].remove(at: index) }
        }
    }
}
