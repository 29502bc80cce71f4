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

/// The parts of `metadata` that a controller host looks at, read with the scanner alone. Absent
/// strings are empty, as in Go's `ObjectMeta`; the timestamps stay as the RFC 3339 text the server
/// sent.
///
/// `name`, `namespace`, `resourceVersion` and `generation` (what a cache and a queue read for
/// every object) are decoded with the object. The other fields are read from the object's JSON
/// when asked for: the decoder checks them (types, escapes, UTF-8) and notes where each value
/// starts, so a cached object costs no dictionary for its labels and annotations and no strings
/// for its UID and timestamps until something reads them. Each read decodes the value again; a
/// caller that reads one field many times keeps it in a local.
public struct ObjectMetadata: Sendable, Hashable {
    public var name: String = ""
    public var namespace: String = ""
    public var resourceVersion: String = ""
    public var generation: Int64 = 0
    /// The JSON of the whole object, and where the values of the other fields start in it.
    var source: [UInt8] = []
    var offsets = LazyOffsets()

    public init() {}

    public var uid: String { read(offsets.uid) { (s, i) throws(ObjectDecodingError) in try s.optionalString(at: i).0 ?? "" } ?? "" }
    public var labels: [String: String] { read(offsets.labels) { (s, i) throws(ObjectDecodingError) in try s.stringMap(at: i, depth: 2).0 } ?? [:] }
    public var annotations: [String: String] { read(offsets.annotations) { (s, i) throws(ObjectDecodingError) in try s.stringMap(at: i, depth: 2).0 } ?? [:] }
    public var ownerReferences: [OwnerReference] { read(offsets.ownerReferences) { (s, i) throws(ObjectDecodingError) in try s.ownerReferences(at: i, depth: 2).0 } ?? [] }
    public var finalizers: [String] { read(offsets.finalizers) { (s, i) throws(ObjectDecodingError) in try s.stringArray(at: i, depth: 2).0 } ?? [] }
    public var creationTimestamp: String? { read(offsets.creationTimestamp) { (s, i) throws(ObjectDecodingError) in try s.optionalString(at: i).0 } ?? nil }
    public var deletionTimestamp: String? { read(offsets.deletionTimestamp) { (s, i) throws(ObjectDecodingError) in try s.optionalString(at: i).0 } ?? nil }

    /// The owner reference with `controller: true`, if any.
    public var controllerReference: OwnerReference? { ownerReferences.first { $0.controller == true } }

    /// `controllerReference?.uid`, read without building the owner references: the informer's cache
    /// files every object it stores under it, and looks it up again for the state it replaces.
    public var controllerUID: String? {
        read(offsets.ownerReferences) { (s, i) throws(ObjectDecodingError) in try s.controllerUID(inOwnerReferencesAt: i, depth: 2) } ?? nil
    }

    /// Decodes the value at `offset` of `source` (nil when the field is absent). The decoder
    /// checked the value when it noted the offset, so decoding it again cannot fail.
    private func read<T>(_ offset: UInt32, _ decode: (JSONScanner, Int) throws(ObjectDecodingError) -> T) -> T? {
        guard offset != 0 else { return nil }
        do {
            return try JSONScanner.withScanner(over: source) { (s) throws(ObjectDecodingError) -> T in try decode(s, Int(offset)) }
        } catch {
            preconditionFailure("metadata value checked at decoding failed to decode again: \(error)")
        }
    }

    public static func == (a: ObjectMetadata, b: ObjectMetadata) -> Bool {
        a.name == b.name && a.namespace == b.namespace && a.resourceVersion == b.resourceVersion && a.generation == b.generation
            && a.uid == b.uid && a.labels == b.labels && a.annotations == b.annotations && a.ownerReferences == b.ownerReferences
            && a.finalizers == b.finalizers && a.creationTimestamp == b.creationTimestamp && a.deletionTimestamp == b.deletionTimestamp
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(namespace)
        hasher.combine(resourceVersion)
        hasher.combine(uid)
    }
}

/// Where the values of the metadata fields read on demand start, as offsets in the object's JSON
/// (0: the field is absent; no value of a field starts at an object's first byte).
struct LazyOffsets: Sendable {
    var uid: UInt32 = 0
    var labels: UInt32 = 0
    var annotations: UInt32 = 0
    var ownerReferences: UInt32 = 0
    var finalizers: UInt32 = 0
    var creationTimestamp: UInt32 = 0
    var deletionTimestamp: UInt32 = 0

    /// Each noted offset passed through `transform`.
    func map(_ transform: (UInt32) -> UInt32) -> LazyOffsets {
        func t(_ o: UInt32) -> UInt32 { o == 0 ? 0 : transform(o) }
        return LazyOffsets(uid: t(uid), labels: t(labels), annotations: t(annotations), ownerReferences: t(ownerReferences),
                           finalizers: t(finalizers), creationTimestamp: t(creationTimestamp), deletionTimestamp: t(deletionTimestamp))
    }
}

extension JSONScanner {
    /// Parses the `metadata` object at `start` into `m` (fields the object does not have are left
    /// as they are). When `cutManagedFields` is set, appends to `cuts` the byte ranges to remove so
    /// that `managedFields` disappears and the object stays valid JSON. Returns the index after it.
    func metadata(
        at start: Int, depth: Int, objectStart: Int, cutManagedFields: Bool, into m: inout ObjectMetadata, cuts: inout ByteCuts
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
            case 3 where key(k, is: "uid"): return try checkedString(at: v, from: objectStart, noting: &m.offsets.uid)
            case 4 where key(k, is: "name"):
                let (s, e) = try optionalString(at: v); m.name = s ?? ""; return e
            case 6 where key(k, is: "labels"): return try checkedStringMap(at: v, depth: d, from: objectStart, noting: &m.offsets.labels)
            case 9 where key(k, is: "namespace"):
                let (s, e) = try optionalString(at: v); m.namespace = s ?? ""; return e
            case 10 where key(k, is: "generation"):
                let (s, e) = try optionalInt64(at: v); m.generation = s ?? 0; return e
            case 10 where key(k, is: "finalizers"): return try checkedStringArray(at: v, depth: d, from: objectStart, noting: &m.offsets.finalizers)
            case 11 where key(k, is: "annotations"): return try checkedStringMap(at: v, depth: d, from: objectStart, noting: &m.offsets.annotations)
            case 15 where key(k, is: "resourceVersion"):
                let (s, e) = try optionalString(at: v); m.resourceVersion = s ?? ""; return e
            case 15 where key(k, is: "ownerReferences"): return try checkedOwnerReferences(at: v, depth: d, from: objectStart, noting: &m.offsets.ownerReferences)
            case 17 where key(k, is: "creationTimestamp"): return try checkedString(at: v, from: objectStart, noting: &m.offsets.creationTimestamp)
            case 17 where key(k, is: "deletionTimestamp"): return try checkedString(at: v, from: objectStart, noting: &m.offsets.deletionTimestamp)
            default:
                if k.hasEscapes { return try escapedMetadataKey(k, value: v, depth: d, objectStart: objectStart, into: &m) }
                return nil
            }
        }
        if let run = runStart { cuts.append((run.comma ?? run.key)..<runEnd) }
        return end
    }

    /// Keys written with escapes (never seen from a real server) take the slow path.
    private func escapedMetadataKey(_ k: JSONKey, value v: Int, depth d: Int, objectStart: Int, into m: inout ObjectMetadata) throws(ObjectDecodingError) -> Int? {
        if key(k, is: "uid") { return try checkedString(at: v, from: objectStart, noting: &m.offsets.uid) }
        if key(k, is: "name") { let (s, e) = try optionalString(at: v); m.name = s ?? ""; return e }
        if key(k, is: "labels") { return try checkedStringMap(at: v, depth: d, from: objectStart, noting: &m.offsets.labels) }
        if key(k, is: "namespace") { let (s, e) = try optionalString(at: v); m.namespace = s ?? ""; return e }
        if key(k, is: "generation") { let (s, e) = try optionalInt64(at: v); m.generation = s ?? 0; return e }
        if key(k, is: "finalizers") { return try checkedStringArray(at: v, depth: d, from: objectStart, noting: &m.offsets.finalizers) }
        if key(k, is: "annotations") { return try checkedStringMap(at: v, depth: d, from: objectStart, noting: &m.offsets.annotations) }
        if key(k, is: "resourceVersion") { let (s, e) = try optionalString(at: v); m.resourceVersion = s ?? ""; return e }
        if key(k, is: "ownerReferences") { return try checkedOwnerReferences(at: v, depth: d, from: objectStart, noting: &m.offsets.ownerReferences) }
        if key(k, is: "creationTimestamp") { return try checkedString(at: v, from: objectStart, noting: &m.offsets.creationTimestamp) }
        if key(k, is: "deletionTimestamp") { return try checkedString(at: v, from: objectStart, noting: &m.offsets.deletionTimestamp) }
        return nil
    }

    // MARK: Fields read on demand: checked now, decoded when asked for

    /// Notes where the value at `i` (after white space) starts, then checks it with `check` unless
    /// it is `null`; returns the index after it.
    private func noted(
        _ i: Int, from objectStart: Int, into offset: inout UInt32, _ check: (Int) throws(ObjectDecodingError) -> Int
    ) throws(ObjectDecodingError) -> Int {
        let i = skipWhitespace(i)
        offset = try self.offset(i, from: objectStart)
        return isNull(at: i) ? i + 4 : try check(i)
    }

    /// Checks a string or `null` (as `optionalString` would read it) and notes where it starts.
    private func checkedString(at i: Int, from objectStart: Int, noting offset: inout UInt32) throws(ObjectDecodingError) -> Int {
        try noted(i, from: objectStart, into: &offset) { (i) throws(ObjectDecodingError) in try checkString(at: i) }
    }

    /// Checks an object of strings or `null` (as `stringMap` would read it) and notes where it starts.
    private func checkedStringMap(at i: Int, depth: Int, from objectStart: Int, noting offset: inout UInt32) throws(ObjectDecodingError) -> Int {
        try noted(i, from: objectStart, into: &offset) { (i) throws(ObjectDecodingError) in
            try forEachMember(ofObjectAt: i, depth: depth) { (member) throws(ObjectDecodingError) -> Int? in
                try checkString(member.key)
                return try checkString(at: member.valueStart)
            }
        }
    }

    /// Checks an array of strings or `null` (as `stringArray` would read it) and notes where it starts.
    private func checkedStringArray(at i: Int, depth: Int, from objectStart: Int, noting offset: inout UInt32) throws(ObjectDecodingError) -> Int {
        try noted(i, from: objectStart, into: &offset) { (i) throws(ObjectDecodingError) in
            try forEachElement(ofArrayAt: i, depth: depth) { (element) throws(ObjectDecodingError) -> Int? in try checkString(at: element) }
        }
    }

    /// Checks owner references or `null` (as `ownerReferences` would read them) and notes where they start.
    private func checkedOwnerReferences(at i: Int, depth: Int, from objectStart: Int, noting offset: inout UInt32) throws(ObjectDecodingError) -> Int {
        try noted(i, from: objectStart, into: &offset) { (i) throws(ObjectDecodingError) in
            try forEachElement(ofArrayAt: i, depth: depth) { (element) throws(ObjectDecodingError) -> Int? in
                try forEachMember(ofObjectAt: element, depth: depth + 1) { (member) throws(ObjectDecodingError) -> Int? in
                    switch ownerReferenceField(member.key) {
                    case .apiVersion, .kind, .name, .uid:
                        let v = skipWhitespace(member.valueStart)
                        return isNull(at: v) ? v + 4 : try checkString(at: v)
                    case .controller, .blockOwnerDeletion: return try optionalBool(at: member.valueStart).end
                    case nil: return nil
                    }
                }
            }
        }
    }

    /// `i` as an offset in the object that starts at `objectStart`.
    private func offset(_ i: Int, from objectStart: Int) throws(ObjectDecodingError) -> UInt32 {
        guard let offset = UInt32(exactly: i - objectStart) else { throw error("object larger than 4 GiB", at: i) }
        return offset
    }

    /// Checks that the value at `i` (after white space) is a string whose content is valid once
    /// unescaped; returns the index after it.
    func checkString(at i: Int) throws(ObjectDecodingError) -> Int {
        let i = skipWhitespace(i)
        guard i < bytes.count, bytes[i] == 0x22 else { throw unexpected(i, expected: "string") }
        let (end, escapes) = try skipString(at: i)
        try checkString(JSONKey(start: i + 1, end: end - 1, hasEscapes: escapes))
        return end
    }

    /// What `string(_:)` checks, without making the string: ASCII (nearly every metadata string)
    /// needs no more than a look at each byte.
    func checkString(_ key: JSONKey) throws(ObjectDecodingError) {
        if !key.hasEscapes {
            let raw = UnsafeBufferPointer(rebasing: bytes[key.start..<key.end])
            var ascii = true
            for c in raw where c >= 0x80 { ascii = false; break }
            if ascii { return }
        }
        _ = try string(key)
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

    /// The fields of an owner reference that are read.
    enum OwnerReferenceField { case apiVersion, kind, name, uid, controller, blockOwnerDeletion }

    func ownerReferenceField(_ k: JSONKey) -> OwnerReferenceField? {
        if key(k, is: "apiVersion") { return .apiVersion }
        if key(k, is: "kind") { return .kind }
        if key(k, is: "name") { return .name }
        if key(k, is: "uid") { return .uid }
        if key(k, is: "controller") { return .controller }
        if key(k, is: "blockOwnerDeletion") { return .blockOwnerDeletion }
        return nil
    }

    /// The `uid` of the first owner reference with `controller: true` in the array at `start`, as
    /// `ownerReferences(at:depth:)` reads it (the last of a repeated member counts; a null uid is
    /// empty), decoding no other string.
    func controllerUID(inOwnerReferencesAt start: Int, depth: Int) throws(ObjectDecodingError) -> String? {
        if isNull(at: start) { return nil }
        var found: String?
        _ = try forEachElement(ofArrayAt: start, depth: depth) { (i) throws(ObjectDecodingError) -> Int? in
            if found != nil { return nil }
            var uid: Int?
            var controller = false
            let end = try forEachMember(ofObjectAt: i, depth: depth + 1) { (member) throws(ObjectDecodingError) -> Int? in
                switch ownerReferenceField(member.key) {
                case .uid: uid = member.valueStart; return nil
                case .controller: let (b, e) = try optionalBool(at: member.valueStart); controller = b == true; return e
                default: return nil
                }
            }
            if controller { found = try uid.map { (v) throws(ObjectDecodingError) in try optionalString(at: v).0 ?? "" } ?? "" }
            return end
        }
        return found
    }

    func ownerReferences(at start: Int, depth: Int) throws(ObjectDecodingError) -> ([OwnerReference], end: Int) {
        if isNull(at: start) { return ([], skipWhitespace(start) + 4) }
        var refs: [OwnerReference] = []
        let end = try forEachElement(ofArrayAt: start, depth: depth) { (i) throws(ObjectDecodingError) -> Int? in
            var ref = OwnerReference(apiVersion: "", kind: "", name: "", uid: "")
            let e = try forEachMember(ofObjectAt: i, depth: depth + 1) { (member) throws(ObjectDecodingError) -> Int? in
                let v = member.valueStart
                switch ownerReferenceField(member.key) {
                case .apiVersion: let (s, e) = try optionalString(at: v); ref.apiVersion = s ?? ""; return e
                case .kind: let (s, e) = try optionalString(at: v); ref.kind = s ?? ""; return e
                case .name: let (s, e) = try optionalString(at: v); ref.name = s ?? ""; return e
                case .uid: let (s, e) = try optionalString(at: v); ref.uid = s ?? ""; return e
                case .controller: let (b, e) = try optionalBool(at: v); ref.controller = b; return e
                case .blockOwnerDeletion: let (b, e) = try optionalBool(at: v); ref.blockOwnerDeletion = b; return e
                case nil: return nil
                }
            }
            refs.append(ref)
            return e
        }
        return (refs, end)
    }
}
