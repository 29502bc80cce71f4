extension FieldPathElement: Comparable {
    /// The order structured-merge-diff keeps sets in: fields by name, then
    /// keyed elements, then set values, then indexes. Conflict lists follow it.
    public static func < (a: FieldPathElement, b: FieldPathElement) -> Bool {
        switch (a, b) {
        case (.field(let x), .field(let y)): return x < y
        case (.key, .key): return FieldValueOrder.compareKeys(a.keyFields ?? [:], b.keyFields ?? [:]) < 0
        case (.value, .value): return FieldValueOrder.compare(a.setValue ?? .null, b.setValue ?? .null) < 0
        case (.index(let x), .index(let y)): return x < y
        default: return a.rank < b.rank
        }
    }

    private var rank: Int {
        switch self {
        case .field: return 0
        case .key: return 1
        case .value: return 2
        case .index: return 3
        }
    }
}

/// The total order structured-merge-diff puts on values: numbers (compared
/// numerically, integer or not), then strings, booleans, lists, maps, null.
enum FieldValueOrder {
    static func compare(_ a: JSON, _ b: JSON) -> Int {
        if let x = a.doubleValue, let y = b.doubleValue {
            if case .int(let i) = a, case .int(let j) = b { return i < j ? -1 : (i == j ? 0 : 1) }
            return x < y ? -1 : (x == y ? 0 : 1)
        }
        let (ra, rb) = (rank(a), rank(b))
        if ra != rb { return ra < rb ? -1 : 1 }
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.array(let x), .array(let y)):
            for (l, r) in zip(x, y) {
                let c = compare(l, r)
                if c != 0 { return c }
            }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        case (.object(let x), .object(let y)): return compareKeys(x, y)
        default: return 0
        }
    }

    /// Maps compare member by member in key order; a map that runs out first is smaller.
    static func compareKeys(_ a: [String: JSON], _ b: [String: JSON]) -> Int {
        let (ka, kb) = (a.keys.sorted(), b.keys.sorted())
        for (x, y) in zip(ka, kb) {
            if x != y { return x < y ? -1 : 1 }
            let c = compare(a[x]!, b[y]!)
            if c != 0 { return c }
        }
        return ka.count < kb.count ? -1 : (ka.count == kb.count ? 0 : 1)
    }

    private static func rank(_ value: JSON) -> Int {
        switch value {
        case .int, .double: return 0
        case .string: return 1
        case .bool: return 2
        case .array: return 3
        case .object: return 4
        case .null: return 5
        }
    }
}
