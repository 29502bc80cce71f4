@testable import Informers
import KubeClient
import KubeCore
import SeededRandom
import Testing

/// The cache's key table and index sets against Swift's `Dictionary` and `Set` as models, over
/// long random sequences of stores and removals in a small key space (so runs of probes collide,
/// removals shift runs back, tables grow and slots are reused).
@Suite struct ObjectTableTests {
    func object(_ name: String, rv: Int) throws -> KubeObject {
        try KubeObject(bytes: (["apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": ["name": .string(name), "namespace": "default", "resourceVersion": .string(String(rv))]] as JSON).serialized())
    }

    /// Checks every key of the key space, the count, the objects in slot order and the free slots.
    func check(_ table: ObjectTable, against model: [String: Int], keys: [String], hash: (String) -> UInt64) {
        #expect(table.count == model.count)
        for key in keys {
            let stored = table.object(forKey: key, hash: hash(key)).map { Int($0.metadata.resourceVersion)! }
            #expect(stored == model[key], "key \(key)")
        }
        var seen: [String: Int] = [:]
        table.forEach { key, h, object in
            #expect(h == hash(key))
            seen[key] = Int(object.metadata.resourceVersion)!
        }
        #expect(seen == model)
    }

    func run(reusesSlots: Bool, hash: @escaping (String) -> UInt64, seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        let keys = (0..<300).map { "default/key-\($0)" }
        var table = ObjectTable(reusesSlots: reusesSlots)
        var model: [String: Int] = [:]
        var maxCount = 0
        for step in 0..<6_000 {
            let key = keys.randomElement(using: &random)!
            if Int.random(in: 0..<10, using: &random) < 6 {
                let (_, old) = table.upsert(try object(String(key.dropFirst(8)), rv: step), key: key, hash: hash(key))
                #expect(old.map { Int($0.metadata.resourceVersion)! } == model[key])
                model[key] = step
            } else {
                let removed = table.remove(key: key, hash: hash(key))
                #expect(removed.map { Int($0.old.metadata.resourceVersion)! } == model[key])
                model[key] = nil
            }
            maxCount = max(maxCount, model.count)
            if step % 500 == 0 { check(table, against: model, keys: keys, hash: hash) }
        }
        check(table, against: model, keys: keys, hash: hash)
        if reusesSlots {
            // Freed slots are taken again: the slots never outnumber the most objects held at once.
            #expect(table.slotCount <= maxCount)
        } else {
            #expect(table.slotCount > maxCount)
        }
    }

    @Test func matchesADictionaryWithTheRealHash() throws {
        try run(reusesSlots: true, hash: KeyHash.hash, seed: 1)
        try run(reusesSlots: false, hash: KeyHash.hash, seed: 2)
    }

    /// Eight distinct hashes for 300 keys: keys whose whole hash is the same must still be told
    /// apart by comparing the keys, and long runs of equal home positions must survive removals.
    @Test func keysWhoseHashesCollideStayApart() throws {
        try run(reusesSlots: true, hash: { UInt64($0.utf8.count % 2) << 40 | UInt64($0.utf8.last! % 4) }, seed: 3)
    }

    @Test func aTableBuiltAsideKeepsFirstStoredOrder() throws {
        var table = ObjectTable(reusesSlots: false)
        for name in ["c", "a", "b"] { _ = table.upsert(try object(name, rv: 1), key: name, hash: KeyHash.hash(name)) }
        _ = table.upsert(try object("c", rv: 2), key: "c", hash: KeyHash.hash("c"))
        _ = table.remove(key: "a", hash: KeyHash.hash("a"))
        _ = table.upsert(try object("a", rv: 3), key: "a", hash: KeyHash.hash("a"))
        var order: [String] = []
        table.forEach { key, _, _ in order.append(key) }
        #expect(order == ["c", "b", "a"])
    }

    @Test func theHashDependsOnEveryByte() {
        // Lengths around the 8- and 16-byte steps; each one-byte change gives another hash.
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 31, 33] {
            let base = String(repeating: "k", count: length)
            var hashes: Set<UInt64> = [KeyHash.hash(base)]
            for i in 0..<length {
                var bytes = Array(base.utf8)
                bytes[i] = UInt8(ascii: "j")
                hashes.insert(KeyHash.hash(String(decoding: bytes, as: UTF8.self)))
            }
            #expect(hashes.count == length + 1, "length \(length)")
            #expect(KeyHash.hash(base) != KeyHash.hash(base + "\u{0}"))
        }
        // A small (inline) string and a heap one hash as their bytes do.
        for key in ["default/a", String(repeating: "x", count: 40)] {
            let bytes = Array(key.utf8)
            #expect(KeyHash.hash(key) == bytes.withUnsafeBytes { KeyHash.hash($0) })
        }
    }

    @Test func slotSetMatchesASet() {
        var random = SplitMix(seed: 4)
        var set = SlotSet()
        var model: Set<Int> = []
        for step in 0..<20_000 {
            // A dense range, as slots are, and a sparse one.
            let slot = step % 3 == 0 ? Int.random(in: 0..<100_000, using: &random) : Int.random(in: 0..<200, using: &random)
            if Bool.random(using: &random) {
                #expect(set.insert(slot) == model.insert(slot).inserted)
            } else {
                #expect(set.remove(slot) == (model.remove(slot) != nil))
            }
            #expect(set.count == model.count)
        }
        for slot in 0..<200 { #expect(set.contains(slot) == model.contains(slot)) }
        var members: Set<Int> = []
        set.forEach { members.insert($0) }
        #expect(members == model)
    }
}
