import CWorkQueueSupport
import KubeCore

/// A Kubernetes object as the API server sent it: the exact JSON bytes
/// (optionally with `metadata.managedFields` spliced out) and the metadata a
/// controller needs, parsed without building a tree.
///
/// `bytes` is a `[UInt8]`: an array is already a reference-counted, immutable
/// once shared, copy-on-write buffer, so copying a `KubeObject` (into a cache,
/// an event, a work queue) shares one allocation and costs a retain. It is a
/// single heap block with a 32-byte header, which is less than a class box
/// around the same bytes, and unlike an `ArraySlice` of a list body it never
/// keeps a larger buffer alive: list items and cut objects are copied into
/// arrays of exactly their own size.
public struct KubeObject: Sendable, Hashable {
    /// The JSON of the object.
    public let bytes: [UInt8]
    /// The metadata, in a shared box: a copy of the object (out of a cache, into an event) then costs two
    /// retains rather than one per string, dictionary and array of the metadata.
    @usableFromInline let box: MetadataBox
    /// Inlinable, so that reading one field (`object.metadata.name`) loads that field, not the whole metadata.
    @inlinable public var metadata: ObjectMetadata { box.metadata }
    /// From the object, or, for a list item that carries none, from the list.
    public internal(set) var apiVersion: String
    /// From the object, or, for a list item that carries none, the list's kind minus `List`.
    public internal(set) var kind: String

    /// Scans a JSON object. With `cutManagedFields`, the returned `bytes` lack
    /// the `metadata.managedFields` member and are otherwise byte-identical;
    /// without it (or when there is none) `bytes` shares the array passed in.
    public init(bytes: [UInt8], cutManagedFields: Bool = false) throws(ObjectDecodingError) {
        let (scan, cut) = try bytes.withUnsafeBufferPointer { (buffer) throws(ObjectDecodingError) -> (ObjectScan, [UInt8]?) in
            let scanner = JSONScanner(buffer)
            let scan = try scanner.object(at: 0, depth: 0, cutManagedFields: cutManagedFields)
            try scanner.expectEnd(after: scan.end)
            return (scan, scan.cuts.isEmpty ? nil : scanner.copy(0..<buffer.count, removing: scan.cuts))
        }
        let kept = cut ?? bytes
        self.init(bytes: kept, box: scan.box(for: kept, from: 0), apiVersion: scan.apiVersion ?? "", kind: scan.kind ?? "")
    }

    /// Scans the JSON text of an object.
    public init(json text: String, cutManagedFields: Bool = false) throws(ObjectDecodingError) {
        try self.init(bytes: Array(text.utf8), cutManagedFields: cutManagedFields)
    }

    init(bytes: [UInt8], box: MetadataBox, apiVersion: String, kind: String) {
        self.bytes = bytes
        self.box = box
        self.apiVersion = apiVersion
        self.kind = kind
    }

    /// The whole object parsed into a tree, on demand.
    public var json: JSON {
        get throws(JSONParseError) { try JSON.parse(bytes) }
    }

    /// The JSON as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

extension KubeObject {
    /// Asks the CPU to start loading the two heap blocks that a copy of the object stored at
    /// `pointer` retains (its bytes and its metadata), without waiting, and without touching the
    /// object's reference counts (a plain copy would retain it: the very trip to memory this is to
    /// overlap). A loop that copies many objects out of a large cache calls this a few objects
    /// ahead. `pointer` is the storage of a `KubeObject`, or of an `Optional<KubeObject>` (a nil
    /// one prefetches meaningless addresses, which is harmless: a prefetch never faults).
    public static func prefetch(objectAt pointer: UnsafeRawPointer) {
        let bytes = pointer.load(fromByteOffset: bytesOffset, as: UInt.self)
        let box = pointer.load(fromByteOffset: boxOffset, as: UInt.self)
        // An array's count and the metadata's reference count sit in the first words of their blocks.
        plugboard_prefetch(UnsafeRawPointer(bitPattern: bytes))
        plugboard_prefetch(UnsafeRawPointer(bitPattern: box))
    }

    private static let bytesOffset = MemoryLayout<KubeObject>.offset(of: \.bytes)!
    private static let boxOffset = MemoryLayout<KubeObject>.offset(of: \.box)!

    public static func == (lhs: KubeObject, rhs: KubeObject) -> Bool {
        lhs.bytes == rhs.bytes && (lhs.box === rhs.box || lhs.box.metadata == rhs.box.metadata)
            && lhs.apiVersion == rhs.apiVersion && lhs.kind == rhs.kind
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes)
        hasher.combine(box.metadata)
        hasher.combine(apiVersion)
        hasher.combine(kind)
    }
}

/// An object's metadata, immutable and shared between the copies of the object.
@usableFromInline
final class MetadataBox: Sendable {
    @usableFromInline let metadata: ObjectMetadata
    init(_ metadata: ObjectMetadata) { self.metadata = metadata }
}

/// What scanning one object yields.
struct ObjectScan {
    var end: Int
    /// With the offsets of the fields read on demand counted from the object's start in the scanned buffer.
    var metadata: ObjectMetadata
    var apiVersion: String?
    var kind: String?
    var cuts: ByteCuts

    /// The metadata, boxed for the object whose JSON is `bytes`: the scanned object from `start`
    /// with `cuts` removed. The offsets move to where the values are in `bytes`.
    func box(for bytes: [UInt8], from start: Int) -> MetadataBox {
        var metadata = metadata
        metadata.offsets = metadata.offsets.map { UInt32(cuts.position(of: start + Int($0)) - start) }
        metadata.source = bytes
        return MetadataBox(metadata)
    }
}

/// Byte ranges to leave out of a copy, sorted and disjoint. Nearly always none or one (the
/// `managedFields` member), which is kept inline: only more than one allocates.
struct ByteCuts {
    private var first: Range<Int>?
    private var more: [Range<Int>] = []

    var isEmpty: Bool { first == nil }

    mutating func append(_ cut: Range<Int>) {
        if first == nil { first = cut } else { more.append(cut) }
    }

    /// Bytes removed in all.
    var count: Int { (first?.count ?? 0) + more.reduce(0) { $0 + $1.count } }

    /// Where `offset` (not inside a cut) is once the cuts are removed.
    func position(of offset: Int) -> Int {
        var removed = 0
        forEach { cut in if cut.upperBound <= offset { removed += cut.count } }
        return offset - removed
    }

    func forEach(_ body: (Range<Int>) -> Void) {
        guard let first else { return }
        body(first)
        for cut in more { body(cut) }
    }
}

extension JSONScanner {
    /// Scans the object at `start`: its `apiVersion`, `kind` and `metadata`;
    /// every other member is skipped (and validated).
    func object(at start: Int, depth: Int, cutManagedFields: Bool) throws(ObjectDecodingError) -> ObjectScan {
        var metadata = ObjectMetadata()
        var apiVersion: String?
        var kind: String?
        var cuts = ByteCuts()
        let end = try forEachMember(ofObjectAt: start, depth: depth) { (member) throws(ObjectDecodingError) -> Int? in
            let k = member.key
            switch k.end - k.start {
            case 4 where key(k, is: "kind"):
                let (s, e) = try optionalString(at: member.valueStart); kind = s; return e
            case 8 where key(k, is: "metadata"):
                return try self.metadata(at: member.valueStart, depth: depth + 1, objectStart: start, cutManagedFields: cutManagedFields, into: &metadata, cuts: &cuts)
            case 10 where key(k, is: "apiVersion"):
                let (s, e) = try optionalString(at: member.valueStart); apiVersion = s; return e
            default:
                guard k.hasEscapes else { return nil }
                if key(k, is: "kind") { let (s, e) = try optionalString(at: member.valueStart); kind = s; return e }
                if key(k, is: "apiVersion") { let (s, e) = try optionalString(at: member.valueStart); apiVersion = s; return e }
                if key(k, is: "metadata") {
                    return try self.metadata(at: member.valueStart, depth: depth + 1, objectStart: start, cutManagedFields: cutManagedFields, into: &metadata, cuts: &cuts)
                }
                return nil
            }
        }
        return ObjectScan(end: end, metadata: metadata, apiVersion: apiVersion, kind: kind, cuts: cuts)
    }

    /// The object `scan` describes, scanned from `start` (a list item, a watch event's object),
    /// with bytes of its own: the buffer's bytes minus the cuts.
    func object(_ scan: ObjectScan, from start: Int, apiVersion: String, kind: String) -> KubeObject {
        let bytes = copy(start..<scan.end, removing: scan.cuts)
        return KubeObject(bytes: bytes, box: scan.box(for: bytes, from: start), apiVersion: apiVersion, kind: kind)
    }

    /// A new array with the bytes of `range` except those in `cuts` (sorted,
    /// disjoint, inside `range`).
    func copy(_ range: Range<Int>, removing cuts: ByteCuts) -> [UInt8] {
        let count = range.count - cuts.count
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            var from = range.lowerBound
            var to = 0
            cuts.forEach { cut in
                let n = cut.lowerBound - from
                if n > 0 {
                    UnsafeMutableRawPointer(out.baseAddress! + to).copyMemory(from: bytes.baseAddress! + from, byteCount: n)
                    to += n
                }
                from = cut.upperBound
            }
            let n = range.upperBound - from
            if n > 0 {
                UnsafeMutableRawPointer(out.baseAddress! + to).copyMemory(from: bytes.baseAddress! + from, byteCount: n)
                to += n
            }
            initialized = to
        }
    }
}

/// A LIST response: its items with their bytes sliced out of the body.
public struct KubeObjectList: Sendable {
    /// The list's own kind and apiVersion (`ConfigMapList`, `v1`).
    public var kind: String = ""
    public var apiVersion: String = ""
    /// The kind and apiVersion recorded on items that carry none.
    public var itemKind: String = ""
    public var itemAPIVersion: String = ""
    public var resourceVersion: String = ""
    /// `metadata.continue`, nil when absent or empty.
    public var continueToken: String?
    public var remainingItemCount: Int64?
    public var items: [KubeObject] = []

    public init() {}

    /// Scans a LIST body. Each item's bytes are copied out of `bytes` (minus
    /// `managedFields` when `cutManagedFields`), so the body can be freed.
    public static func decode(bytes: [UInt8], cutManagedFields: Bool = false) throws(ObjectDecodingError) -> KubeObjectList {
        try bytes.withUnsafeBufferPointer { (buffer) throws(ObjectDecodingError) -> KubeObjectList in
            try decode(JSONScanner(buffer), cutManagedFields: cutManagedFields)
        }
    }

    /// What a LIST body says about the page after it, read without decoding its items.
    public enum NextPage: Equatable, Sendable {
        /// `metadata.continue` names the next page.
        case next(continueToken: String)
        /// `metadata` carries no continue token: this is the last page.
        case none
        /// `metadata` does not come before `items` (or the body is not a list): only a full decode tells.
        case unknown
    }

    /// Reads `metadata.continue` of a LIST body when `metadata` precedes `items`, as API servers write
    /// it, without scanning the items: a paginated list can then ask for the next page while it decodes
    /// this one. Anything unexpected gives `.unknown`, and the full decode reports the error.
    public static func nextPage(of bytes: [UInt8]) -> NextPage {
        bytes.withUnsafeBufferPointer { buffer -> NextPage in
            let s = JSONScanner(buffer)
            do {
                let n = buffer.count
                var i = s.skipWhitespace(0)
                guard i < n, buffer[i] == 0x7B else { return .unknown }
                i = s.skipWhitespace(i + 1)
                while i < n, buffer[i] == 0x22 {
                    let (keyEnd, escapes) = try s.skipString(at: i)
                    let key = JSONKey(start: i + 1, end: keyEnd - 1, hasEscapes: escapes)
                    var j = s.skipWhitespace(keyEnd)
                    guard j < n, buffer[j] == 0x3A else { return .unknown }
                    j = s.skipWhitespace(j + 1)
                    if s.key(key, is: "items") { return .unknown }
                    if s.key(key, is: "metadata") {
                        var token: String?
                        _ = try s.forEachMember(ofObjectAt: j, depth: 1) { (m) throws(ObjectDecodingError) -> Int? in
                            guard s.key(m.key, is: "continue") else { return nil }
                            let (x, e) = try s.optionalString(at: m.valueStart)
                            token = x
                            return e
                        }
                        if let token, !token.isEmpty { return .next(continueToken: token) }
                        return .none
                    }
                    i = s.skipWhitespace(try s.skipValue(at: j, depth: 1))
                    guard i < n, buffer[i] == 0x2C else { return .unknown }
                    i = s.skipWhitespace(i + 1)
                }
                return .unknown
            } catch {
                return .unknown
            }
        }
    }

    static func decode(_ s: JSONScanner, cutManagedFields: Bool) throws(ObjectDecodingError) -> KubeObjectList {
        var list = KubeObjectList()
        var sawItems = false
        let end = try s.forEachMember(ofObjectAt: 0, depth: 0) { (member) throws(ObjectDecodingError) -> Int? in
            let k = member.key
            let v = member.valueStart
            if s.key(k, is: "kind") { let (x, e) = try s.optionalString(at: v); list.kind = x ?? ""; return e }
            if s.key(k, is: "apiVersion") { let (x, e) = try s.optionalString(at: v); list.apiVersion = x ?? ""; return e }
            if s.key(k, is: "metadata") {
                if s.isNull(at: v) { return s.skipWhitespace(v) + 4 }
                return try s.forEachMember(ofObjectAt: v, depth: 1) { (m) throws(ObjectDecodingError) -> Int? in
                    if s.key(m.key, is: "resourceVersion") {
                        let (x, e) = try s.optionalString(at: m.valueStart); list.resourceVersion = x ?? ""; return e
                    }
                    if s.key(m.key, is: "continue") {
                        let (x, e) = try s.optionalString(at: m.valueStart)
                        list.continueToken = x?.isEmpty == false ? x : nil
                        return e
                    }
                    if s.key(m.key, is: "remainingItemCount") {
                        let (x, e) = try s.optionalInt64(at: m.valueStart); list.remainingItemCount = x; return e
                    }
                    return nil
                }
            }
            if s.key(k, is: "items") {
                sawItems = true
                if s.isNull(at: v) { return s.skipWhitespace(v) + 4 }
                return try s.forEachElement(ofArrayAt: v, depth: 1) { (i) throws(ObjectDecodingError) -> Int? in
                    let scan = try s.object(at: i, depth: 2, cutManagedFields: cutManagedFields)
                    // Usually kind and apiVersion precede items; if not, they are filled in below.
                    let itemKind = scan.kind ?? (list.kind.hasSuffix("List") ? String(list.kind.dropLast(4)) : list.kind)
                    list.items.append(s.object(scan, from: i, apiVersion: scan.apiVersion ?? list.apiVersion, kind: itemKind))
                    return scan.end
                }
            }
            return nil
        }
        try s.expectEnd(after: end)
        guard sawItems else { throw s.error("list has no items member", at: 0) }
        // Items come without kind and apiVersion; the list's may come after them.
        list.itemKind = list.kind.hasSuffix("List") ? String(list.kind.dropLast(4)) : list.kind
        list.itemAPIVersion = list.apiVersion
        for index in list.items.indices {
            if list.items[index].kind.isEmpty { list.items[index].kind = list.itemKind }
            if list.items[index].apiVersion.isEmpty { list.items[index].apiVersion = list.itemAPIVersion }
        }
        return list
    }
}
