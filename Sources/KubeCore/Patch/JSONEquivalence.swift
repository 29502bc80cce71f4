extension JSON {
    /// Equality as JSON defines it rather than as this enum stores it: a
    /// number is a number, so `1` (`.int`) and `1.0` (`.double`) are the same
    /// value. Clients serialize numbers differently (Go writes `1`, others
    /// `1.0`), so the `test` operation and merge-key lookups must not depend
    /// on which one they chose. Object member order never matters.
    func isEquivalent(to other: JSON) -> Bool {
        switch (self, other) {
        case (.int(let i), .double(let d)), (.double(let d), .int(let i)):
            return Int64(exactly: d) == i
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { value.isEquivalent(to: $0) } ?? false }
        default:
            return self == other
        }
    }
}

extension Array where Element == JSON {
    /// Whether an equivalent value is in the list (see `JSON.isEquivalent(to:)`).
    func containsEquivalent(_ value: JSON) -> Bool {
        contains { $0.isEquivalent(to: value) }
    }
}
