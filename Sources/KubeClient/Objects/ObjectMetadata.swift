/// A reference from an object to its owner (`metadata.ownerReferences[]`).
public struct OwnerReference: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// The parts of `metadata` that a controller host looks at, parsed with the
/// scanner alone. Absent strings are empty, as in Go's `ObjectMeta`; the
/// timestamps stay as the RFC 3339 text the server sent.
public struct ObjectMetadata: Sendable, Hashable {
    public var name: String = ""
    public var namespace: String = ""
    public var uid: String = ""
    public var resourceVersion: String = ""
    public var generation: Int64 = 0
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    public var ownerReferences: [OwnerReference] = []
    public var finalizers: [String] = []
    public var creationTimestamp: String?
    public var deletionTimestamp: String?

    public init() {}

    /// The owner reference with `controller: true`, if any.
    public var controllerReference: OwnerReference? { ownerReferences.first { $0.controller == true } }
}

extension JSONScanner {
    /// Parses the `metadata` object at `start` into `m` (fields the object does not have are left
    /// as they are). When `cutManagedFields` is set, appends to `cuts` the byte ranges to remove so
    /// that `managedFields` disappears and the object stays valid JSON. Returns the index after it.
    func metadata(
        at start: Int, depth: Int, cutManagedFields: Bool, into m: inout ObjectMetadata, cuts: inout ByteCuts
    ) throws(ObjectDecodingError) -> Int {
        if isNull(at: start) { return skipWhitespace(start) + 4 }
        // A run of consecutive managedFields members (normally one) waiting to
        // be cut: its first key, the comma before it, and the end of its last value.
        var runStart: (key: Int, comma: Int?)? = nil
        var runEnd = 0
        let d = depth + 1
        let end = try forEachMember(ofObjectAt: start, depth: depth) { (member) throws(ObjectDecodingError) -> Int? in
            let k = member.key
            let v = member.valueStart
            if cutManagedFields && key(k, is: "managedFields") {
                if runStart == nil { runStart = (member.keyStart, member.precedingComma) }
                runEnd = try skipValue(at: v, depth: d)
                return runEnd
            }
            if let run = runStart {
                cuts.append(run.key..<member.keyStart)
                runStart = nil
            }
            switch k.end - k.start {
            case 3 where key(k, is: "uid"):
                let (s, e) = try optionalString(at: v); m.uid = s ?? ""; return e
            case 4 where key(k, is: "name"):
                let (s, e) = try optionalString(at: v); m.name = s ?? ""; return e
            case 6 where key(k, is: "labels"):
                let (s, e) = try stringMap(at: v, depth: d); m.labels = s; return e
            case 9 where key(k, is: "namespace"):
                let (s, e) = try optionalString(at: v); m.namespace = s ?? ""; return e
            case 10 where key(k, is: "generation"):
                let (s, e) = try optionalInt64(at: v); m.generation = s ?? 0; return e
            case 10 where key(k, is: "finalizers"):
                let (s, e) = try stringArray(at: v, depth: d); m.finalizers = s; return e
            case 11 where key(k, is: "annotations"):
                let (s, e) = try stringMap(at: v, depth: d); m.annotations = s; return e
            case 15 where key(k, is: "resourceVersion"):
                let (s, e) = try optionalString(at: v); m.resourceVersion = s ?? ""; return e
            case 15 where key(k, is: "ownerReferences"):
                let (s, e) = try ownerReferences(at: v, depth: d); m.ownerReferences = s; return e
            case 17 where key(k, is: "creationTimestamp"):
                let (s, e) = try optionalString(at: v); m.creationTimestamp = s; return e
            case 17 where key(k, is: "deletionTimestamp"):
                let (s, e) = try optionalString(at: v); m.deletionTimestamp = s; return e
            default:
                if k.hasEscapes { return try escapedMetadataKey(k, value: v, depth: d, into: &m) }
                return nil
            }
        }
        if let run = runStart { cuts.append((run.comma ?? run.key)..<runEnd) }
        return end
    }

    /// Keys written with escapes (never seen from a real server) take the slow path.
    private func escapedMetadataKey(_ k: JSONKey, value v: Int, depth d: Int, into m: inout ObjectMetadata) throws(ObjectDecodingError) -> Int? {
        if key(k, is: "uid") { let (s, e) = try optionalString(at: v); m.uid = s ?? ""; return e }
        if key(k, is: "name") { let (s, e) = try optionalString(at: v); m.name = s ?? ""; return e }
        if key(k, is: "labels") { let (s, e) = try stringMap(at: v, depth: d); m.labels = s; return e }
        if key(k, is: "namespace") { let (s, e) = try optionalString(at: v); m.namespace = s ?? ""; return e }
        if key(k, is: "generation") { let (s, e) = try optionalInt64(at: v); m.generation = s ?? 0; return e }
        if key(k, is: "finalizers") { let (s, e) = try stringArray(at: v, depth: d); m.finalizers = s; return e }
        if key(k, is: "annotations") { let (s, e) = try stringMap(at: v, depth: d); m.annotations = s; return e }
        if key(k, is: "resourceVersion") { let (s, e) = try optionalString(at: v); m.resourceVersion = s ?? ""; return e }
        if key(k, is: "ownerReferences") { let (s, e) = try ownerReferences(at: v, depth: d); m.ownerReferences = s; return e }
        if key(k, is: "creationTimestamp") { let (s, e) = try optionalString(at: v); m.creationTimestamp = s; return e }
        if key(k, is: "deletionTimestamp") { let (s, e) = try optionalString(at: v); m.deletionTimestamp = s; return e }
        return nil
    }

    /// An object of strings (labels, annotations); `null` is empty.
    ///
    /// The members are counted first (a quick scan of a few short strings), so that the dictionary
    /// is allocated once at its size instead of growing (and rehashing) at the first, second, fourth
    /// member. Keys are read from the positions the walk already found.
    func stringMap(at start: Int, depth: Int) throws(ObjectDecodingError) -> ([String: String], end: Int) {
        if isNull(at: start) { return ([:], skipWhitespace(start) + 4) }
        var count = 0
        let end = try forEachMember(ofObjectAt: start, depth: depth) { (_) throws(ObjectDecodingError) -> Int? in
            count += 1
            return nil
        }
        guard count > 0 else { return ([:], end) }
        var map = [String: String](minimumCapacity: count)
        _ = try forEachMember(ofObjectAt: start, depth: depth) { (member) throws(ObjectDecodingError) -> Int? in
            let k = try string(member.key)
            let (v, e) = try string(at: member.valueStart)
            map[k] = v
            return e
        }
        return (map, end)
    }

    /// An array of strings (finalizers); `null` is empty.
    func stringArray(at start: Int, depth: Int) throws(ObjectDecodingError) -> ([String], end: Int) {
        if isNull(at: start) { return ([], skipWhitespace(start) + 4) }
        var array: [String] = []
        let end = try forEachElement(ofArrayAt: start, depth: depth) { (i) throws(ObjectDecodingError) -> Int? in
            let (s, e) = try string(at: i)
            array.append(s)
            return e
        }
        return (array, end)
    }

    func ownerReferences(at start: Int, depth: Int) throws(ObjectDecodingError) -> ([OwnerReference], end: Int) {
        if isNull(at: start) { return ([], skipWhitespace(start) + 4) }
        var refs: [OwnerReference] = []
        let end = try forEachElement(ofArrayAt: start, depth: depth) { (i) throws(ObjectDecodingError) -> Int? in
            var ref = OwnerReference(apiVersion: "", kind: "", name: "", uid: "")
            let e = try forEachMember(ofObjectAt: i, depth: depth + 1) { (member) throws(ObjectDecodingError) -> Int? in
                let k = member.key
                let v = member.valueStart
                if key(k, is: "apiVersion") { let (s, e) = try optionalString(at: v); ref.apiVersion = s ?? ""; return e }
                if key(k, is: "kind") { let (s, e) = try optionalString(at: v); ref.kind = s ?? ""; return e }
                if key(k, is: "name") { let (s, e) = try optionalString(at: v); ref.name = s ?? ""; return e }
                if key(k, is: "uid") { let (s, e) = try optionalString(at: v); ref.uid = s ?? ""; return e }
                if key(k, is: "controller") { let (b, e) = try optionalBool(at: v); ref.controller = b; return e }
                if key(k, is: "blockOwnerDeletion") { let (b, e) = try optionalBool(at: v); ref.blockOwnerDeletion = b; return e }
                return nil
            }
            refs.append(ref)
            return e
        }
        return (refs, end)
    }
}
