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
        var indexes: [String: [String: Set<String>]] = [:]
    }

    let indexers: [String: IndexFunction]
    private let state = Mutex(State())

    /// A cache with the namespace and controller indexes plus `extraIndexers`.
    public init(extraIndexers: [String: IndexFunction] = [:]) {
        var indexers: [String: IndexFunction] = [
            Self.namespaceIndex: { [$0.metadata.namespace] },
            Self.controllerIndex: { $0.metadata.controllerReference.map { [$0.uid] } ?? [] },
        ]
        for (name, function) in extraIndexers {
            precondition(indexers[name] == nil, "index \(name) is built in")
            indexers[name] = function
        }
        self.indexers = indexers
    }

    public var count: Int { state.withLock { $0.objects.count } }

    public func get(_ key: String) -> KubeObject? { state.withLock { $0.objects[key] } }

    public func get(namespace: String, name: String) -> KubeObject? { get(objectKey(namespace: namespace, name: name)) }

    public func list() -> [KubeObject] { state.withLock { Array($0.objects.values) } }

    public func keys() -> [String] { state.withLock { Array($0.objects.keys) } }

    /// The objects filed under `value` in the index `name`. An unknown index is a programming error.
    public func byIndex(_ name: String, _ value: String) -> [KubeObject] {
        precondition(indexers[name] != nil, "no index named \(name)")
        return state.withLock { state in
            (state.indexes[name]?[value] ?? []).compactMap { state.objects[$0] }
        }
    }

    /// Stores an object and returns the state it replaces.
    @discardableResult
    public func upsert(_ object: KubeObject) -> KubeObject? {
        let key = objectKey(object.metadata)
        let values = indexValues(object)
        return state.withLock { state in
            let old = state.objects.updateValue(object, forKey: key)
            if let old { unindex(old, key: key, state: &state) }
            Self.index(values, key: key, state: &state)
            return old
        }
    }

    /// Removes an object by key and returns it.
    @discardableResult
    public func remove(_ key: String) -> KubeObject? {
        state.withLock { state in
            guard let old = state.objects.removeValue(forKey: key) else { return nil }
            unindex(old, key: key, state: &state)
            return old
        }
    }

    /// Replaces the whole content (after a relist) and returns what was removed,
    /// so the informer can report deletions it missed while the watch was down.
    /// The new content is built aside and swapped in at once: readers see the
    /// old state or the new one, never a mix.
    public func replace(with objects: [KubeObject]) -> [KubeObject] {
        var fresh = State()
        fresh.objects.reserveCapacity(objects.count)
        for object in objects {
            let key = objectKey(object.metadata)
            if let duplicate = fresh.objects.updateValue(object, forKey: key) { unindex(duplicate, key: key, state: &fresh) }
            Self.index(indexValues(object), key: key, state: &fresh)
        }
        let current = fresh.objects
        let previous = state.withLock { state in
            swap(&state, &fresh)
            return fresh
        }
        // `fresh` now holds the previous state, released here outside the lock.
        return previous.objects.compactMap { current[$0.key] == nil ? $0.value : nil }
    }

    /// The values each index files `object` under.
    private func indexValues(_ object: KubeObject) -> [(name: String, values: [String])] {
        indexers.map { ($0.key, $0.value(object)) }
    }

    private static func index(_ values: [(name: String, values: [String])], key: String, state: inout State) {
        for (name, list) in values {
            for value in list { state.indexes[name, default: [:]][value, default: []].insert(key) }
        }
    }

    private func unindex(_ object: KubeObject, key: String, state: inout State) {
        for (name, function) in indexers {
            for value in function(object) {
                state.indexes[name]?[value]?.remove(key)
                if state.indexes[name]?[value]?.isEmpty == true { state.indexes[name]?[value] = nil }
            }
        }
    }
}
