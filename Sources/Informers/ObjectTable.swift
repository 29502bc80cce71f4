import KubeClient

/// The hash of a cache key: a seeded multiply-and-fold hash over the key's UTF-8 bytes (the
/// construction of wyhash, which Go's runtime uses for its maps). It reads eight bytes at a time and
/// costs a few nanoseconds for a `namespace/name` key, where Swift's `Hasher` (SipHash-1-3) spends
/// most of its time setting up. The seed is drawn once per process, so the keys an API server hands
/// us cannot be chosen to collide.
enum KeyHash {
    static let seed = UInt64.random(in: .min ... .max) | 1
    static let secret: (UInt64, UInt64, UInt64) = (0xA076_1D64_78BD_642F, 0xE703_7ED1_A0B4_28DB, 0x8EBC_6AF0_9C88_C6E3)

    @inline(__always)
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    static func hash(_ key: String) -> UInt64 {
        if let hash = key.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return hash }
        var copy = key
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var h = seed ^ mix(UInt64(truncatingIfNeeded: n) ^ secret.0, seed ^ secret.1)
        var i = 0
        if let base = bytes.baseAddress {
            while i + 16 <= n {
                let a = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let b = base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                h = mix(a ^ secret.1, b ^ h)
                i += 16
            }
            if i + 8 <= n {
                h = mix(base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ secret.2, h ^ secret.0)
                i += 8
            }
            if i < n {
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while i < n {
                    tail |= UInt64(bytes[i]) << shift
                    shift += 8
                    i += 1
                }
                h = mix(tail ^ secret.0, h ^ secret.2)
            }
        }
        return mix(h ^ secret.1, UInt64(truncatingIfNeeded: n) ^ secret.2)
    }
}

/// Objects by key, in numbered slots. An open-addressing table (linear probing, no tombstones: a
/// removal shifts the run after it back) maps a key to its slot; each bucket keeps the upper half
/// of the key's hash beside the slot, so a probe touches the slot's entry only when those 32 bits
/// match, and each entry keeps the whole hash, so growing the table re-files slots without
/// hashing a key again. Swift's `Dictionary` keeps no hashes: it compares the key of every bucket
/// it probes (a trip to the key's storage) and hashes every key again when it grows.
///
/// Slots are stable while an object is stored: the indexes hold slot numbers, not keys. A freed
/// slot is reused by a later insertion when `reusesSlots` is set (a live cache); a table built as a
/// replacement keeps its slots in the order keys were first stored.
struct ObjectTable: Sendable {
    struct Entry: Sendable {
        var key: String
        var hash: UInt64
        /// nil: a free slot.
        var object: KubeObject?
    }

    private(set) var entries: [Entry] = []
    /// Every freed slot not taken again.
    private var freeSlots: [Int32] = []
    /// 0: empty; otherwise `(hash >> 32) << 32 | (slot + 1)`.
    private var buckets: [UInt64] = []
    /// Objects stored.
    var count: Int { entries.count - freeSlots.count }
    /// Whether an insertion takes a freed slot (freed slots are recorded either way).
    var reusesSlots: Bool

    init(reusesSlots: Bool) { self.reusesSlots = reusesSlots }

    /// Makes room for `capacity` objects without growing.
    mutating func reserveCapacity(_ capacity: Int) {
        entries.reserveCapacity(capacity)
        if Self.bucketCount(for: capacity) > buckets.count { rebuild(bucketCount: Self.bucketCount(for: capacity)) }
    }

    /// At most half full: linear probing stays short.
    private static func bucketCount(for count: Int) -> Int {
        var n = 16
        while n < count * 2 { n <<= 1 }
        return n
    }

    @inline(__always)
    private static func bucket(hash: UInt64, slot: Int) -> UInt64 { (hash & 0xFFFF_FFFF_0000_0000) | UInt64(slot + 1) }

    /// The slot of `key`, if stored.
    func slot(of key: String, hash: UInt64) -> Int? {
        guard !buckets.isEmpty else { return nil }
        return buckets.withUnsafeBufferPointer { buckets in
            let mask = buckets.count - 1
            let tag = hash & 0xFFFF_FFFF_0000_0000
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let b = buckets[i]
                if b == 0 { return nil }
                if b & 0xFFFF_FFFF_0000_0000 == tag {
                    let slot = Int(b & 0xFFFF_FFFF) - 1
                    if entries[slot].hash == hash && entries[slot].key == key { return slot }
                }
                i = (i + 1) & mask
            }
        }
    }

    func object(forKey key: String, hash: UInt64) -> KubeObject? {
        slot(of: key, hash: hash).flatMap { entries[$0].object }
    }

    func object(forKey key: String) -> KubeObject? { object(forKey: key, hash: KeyHash.hash(key)) }

    /// Stores `object` under `key`: in its slot when the key is stored (returning the object it
    /// replaces), else in a new slot.
    mutating func upsert(_ object: KubeObject, key: String, hash: UInt64) -> (slot: Int, old: KubeObject?) {
        if let slot = slot(of: key, hash: hash) {
            let old = entries[slot].object
            entries[slot].object = object
            return (slot, old)
        }
        if Self.bucketCount(for: count + 1) > buckets.count { rebuild(bucketCount: Self.bucketCount(for: count + 1)) }
        let slot: Int
        if reusesSlots, let free = freeSlots.popLast() {
            slot = Int(free)
            entries[slot] = Entry(key: key, hash: hash, object: object)
        } else {
            slot = entries.count
            precondition(slot < Int(UInt32.max - 1), "too many objects for one cache")
            entries.append(Entry(key: key, hash: hash, object: object))
        }
        buckets.withUnsafeMutableBufferPointer { buckets in
            LinearProbing.place(Self.bucket(hash: hash, slot: slot), home: Int(truncatingIfNeeded: hash), in: buckets)
        }
        return (slot, nil)
    }

    /// Removes `key`; returns its slot and object.
    mutating func remove(key: String, hash: UInt64) -> (slot: Int, old: KubeObject)? {
        guard let slot = slot(of: key, hash: hash), let old = entries[slot].object else { return nil }
        unfile(slot: slot, hash: hash)
        entries[slot] = Entry(key: "", hash: 0, object: nil)
        freeSlots.append(Int32(slot))
        return (slot, old)
    }

    /// Slots handed out so far (stored objects and free slots).
    var slotCount: Int { entries.count }

    /// The object in `slot`, nil for a free slot.
    func object(atSlot slot: Int) -> KubeObject? { entries[slot].object }

    /// Starts loading what a copy of the object in `slot` touches (see `KubeObject.prefetch`).
    func prefetchObject(atSlot slot: Int) {
        entries.withUnsafeBufferPointer { entries in
            KubeObject.prefetch(objectAt: UnsafeRawPointer(entries.baseAddress! + slot) + Self.objectOffset)
        }
    }

    private static let objectOffset = MemoryLayout<Entry>.offset(of: \.object)!

    /// The stored objects, in slot order.
    var objects: [KubeObject] {
        var objects: [KubeObject] = []
        objects.reserveCapacity(count)
        forEach { _, _, object in objects.append(object) }
        return objects
    }

    /// The stored keys, in slot order.
    var keys: [String] {
        var keys: [String] = []
        keys.reserveCapacity(count)
        forEach { key, _, _ in keys.append(key) }
        return keys
    }

    /// Each stored object with its key and hash, in slot order. Through the entries in place: a copy
    /// of each would retain and release its key and object once more (this runs under the cache's lock).
    func forEach(_ body: (_ key: String, _ hash: UInt64, _ object: KubeObject) throws -> Void) rethrows {
        for slot in entries.indices {
            if let object = entries[slot].object { try body(entries[slot].key, entries[slot].hash, object) }
        }
    }

    /// The object stored here under the key of `other`'s `slot` (found by the hash `other` keeps).
    func object(withKeyOf slot: Int, in other: ObjectTable) -> KubeObject? {
        object(forKey: other.entries[slot].key, hash: other.entries[slot].hash)
    }

    /// The stored objects whose keys `other` does not hold, in slot order: what a replacement by
    /// `other` removes.
    func objects(missingFrom other: ObjectTable) -> [KubeObject] {
        var missing: [KubeObject] = []
        for slot in entries.indices {
            if let object = entries[slot].object, other.object(withKeyOf: slot, in: self) == nil { missing.append(object) }
        }
        return missing
    }

    /// Takes `slot` out of the buckets.
    private mutating func unfile(slot: Int, hash: UInt64) {
        let target = Self.bucket(hash: hash, slot: slot)
        let entries = self.entries
        buckets.withUnsafeMutableBufferPointer { buckets in
            let mask = buckets.count - 1
            var hole = Int(truncatingIfNeeded: hash) & mask
            while buckets[hole] != target { hole = (hole + 1) & mask }
            LinearProbing.empty(hole, in: buckets) { Int(truncatingIfNeeded: entries[Int($0 & 0xFFFF_FFFF) - 1].hash) }
        }
    }

    private mutating func rebuild(bucketCount: Int) {
        buckets = [UInt64](repeating: 0, count: bucketCount)
        // Through the entries in place: a copy of each would retain and release its key and object,
        // a cache miss apiece on a large table.
        entries.withUnsafeBufferPointer { entries in
            buckets.withUnsafeMutableBufferPointer { buckets in
                for slot in entries.indices where entries[slot].object != nil {
                    let hash = entries[slot].hash
                    LinearProbing.place(Self.bucket(hash: hash, slot: slot), home: Int(truncatingIfNeeded: hash), in: buckets)
                }
            }
        }
    }
}

/// Linear probing over a power-of-two table of words in which 0 marks an empty position, without
/// tombstones: the mechanics `ObjectTable`'s buckets and `SlotSet` share.
enum LinearProbing {
    /// Stores `word` at the first empty position from `home` (taken modulo the table's size) on.
    @inline(__always)
    static func place<Word: FixedWidthInteger>(_ word: Word, home: Int, in table: UnsafeMutableBufferPointer<Word>) {
        let mask = table.count - 1
        var i = home & mask
        while table[i] != 0 { i = (i + 1) & mask }
        table[i] = word
    }

    /// Empties position `hole` and shifts back the words after it, in its run, that would
    /// otherwise be cut off from their home position (`home` of a word, modulo the size).
    @inline(__always)
    static func empty<Word: FixedWidthInteger>(_ hole: Int, in table: UnsafeMutableBufferPointer<Word>, home: (Word) -> Int) {
        let mask = table.count - 1
        var hole = hole
        var i = hole
        while true {
            i = (i + 1) & mask
            let word = table[i]
            if word == 0 { break }
            let start = home(word) & mask
            // The word at i stays when its home is cyclically in (hole, i]; otherwise it fills the hole.
            let stays = hole <= i ? (hole < start && start <= i) : (hole < start || start <= i)
            if !stays {
                table[hole] = word
                hole = i
            }
        }
        table[hole] = 0
    }
}

/// A set of slot numbers (the members of one index value): open addressing over 32-bit words with
/// Fibonacci hashing. Slots are numbers the table hands out, not input, so no seed is needed.
struct SlotSet: Sendable {
    /// 0: empty; otherwise slot + 1.
    private var words: [UInt32] = []
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    /// The top bits of the product, as many as the table has positions.
    @inline(__always)
    private static func home(_ word: UInt32, mask: Int) -> Int {
        Int((word &* 0x9E37_79B1) >> UInt32(32 - (mask + 1).trailingZeroBitCount)) & mask
    }

    /// Adds `slot`; returns false when it was there.
    @discardableResult
    mutating func insert(_ slot: Int) -> Bool {
        if (count + 1) * 2 > words.count { grow() }
        let word = UInt32(slot + 1)
        let mask = words.count - 1
        return words.withUnsafeMutableBufferPointer { words in
            var i = Self.home(word, mask: mask)
            while words[i] != 0 {
                if words[i] == word { return false }
                i = (i + 1) & mask
            }
            words[i] = word
            count += 1
            return true
        }
    }

    /// Removes `slot`; returns false when it was not there.
    @discardableResult
    mutating func remove(_ slot: Int) -> Bool {
        guard !words.isEmpty else { return false }
        let word = UInt32(slot + 1)
        let mask = words.count - 1
        let removed = words.withUnsafeMutableBufferPointer { words -> Bool in
            var hole = Self.home(word, mask: mask)
            while words[hole] != word {
                if words[hole] == 0 { return false }
                hole = (hole + 1) & mask
            }
            LinearProbing.empty(hole, in: words) { Self.home($0, mask: mask) }
            return true
        }
        if removed { count -= 1 }
        return removed
    }

    func contains(_ slot: Int) -> Bool {
        guard !words.isEmpty else { return false }
        let word = UInt32(slot + 1)
        let mask = words.count - 1
        var i = Self.home(word, mask: mask)
        while words[i] != 0 {
            if words[i] == word { return true }
            i = (i + 1) & mask
        }
        return false
    }

    /// The slots, in no particular order.
    func forEach(_ body: (Int) throws -> Void) rethrows {
        for word in words where word != 0 { try body(Int(word) - 1) }
    }

    private mutating func grow() {
        let old = words
        words = [UInt32](repeating: 0, count: max(4, old.count * 2))
        let mask = words.count - 1
        words.withUnsafeMutableBufferPointer { words in
            for word in old where word != 0 { LinearProbing.place(word, home: Self.home(word, mask: mask), in: words) }
        }
    }
}
