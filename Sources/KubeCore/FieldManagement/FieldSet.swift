/// A set of field paths: what one manager owns, or what changed in a write.
///
/// A path is a member on its own; being a member does not make its
/// descendants members. That is how `fieldsV1` can say "this list element"
/// (`k:{…}` with `.`) separately from "these fields of it".
public struct FieldSet: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public private(set) var paths: Set<FieldPath>

    public init() { self.paths = [] }
    public init<S: Sequence>(_ paths: S) where S.Element == FieldPath { self.paths = Set(paths) }
    public init(arrayLiteral paths: FieldPath...) { self.paths = Set(paths) }

    public var isEmpty: Bool { paths.isEmpty }
    public var count: Int { paths.count }
    public func contains(_ path: FieldPath) -> Bool { paths.contains(path) }

    @discardableResult
    public mutating func insert(_ path: FieldPath) -> Bool { paths.insert(path).inserted }
    public mutating func remove(_ path: FieldPath) { paths.remove(path) }

    public func union(_ other: FieldSet) -> FieldSet { FieldSet(paths.union(other.paths)) }
    public func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(paths.subtracting(other.paths)) }
    public func intersection(_ other: FieldSet) -> FieldSet { FieldSet(paths.intersection(other.paths)) }
    public mutating func formUnion(_ other: FieldSet) { paths.formUnion(other.paths) }
    public mutating func subtract(_ other: FieldSet) { paths.subtract(other.paths) }

    /// The members that have no member below them.
    public var leaves: FieldSet {
        var inner = Set<FieldPath>()
        for path in paths {
            var prefix = path.parent
            while let p = prefix, !p.isEmpty, inner.insert(p).inserted { prefix = p.parent }
        }
        return FieldSet(paths.subtracting(inner))
    }

    /// The members in the order structured-merge-diff iterates a set: at each
    /// level the members first, then the levels below, each sorted.
    public var orderedPaths: [FieldPath] {
        var out: [FieldPath] = []
        out.reserveCapacity(paths.count)
        FieldSetTrie(paths).visitInOrder(prefix: FieldPath()) { out.append($0) }
        return out
    }

    /// The set with every intermediate field (`f:` node with members below)
    /// made a member too. Structured-merge-diff does this for a struct's named
    /// fields when it prunes, so that dropping the last applied field under
    /// `spec.strategy` removes `spec.strategy` as a whole unless someone else
    /// owns something below it. Without a typed schema every field counts as named.
    var withFieldAncestors: FieldSet {
        var out = paths
        for path in paths {
            var prefix = path.parent
            while let p = prefix, !p.isEmpty {
                if case .field = p.last, !out.insert(p).inserted { break }
                prefix = p.parent
            }
        }
        return FieldSet(out)
    }

    /// The compact `fieldsV1` JSON, which is also how the set is printed.
    public var description: String { fieldsV1.serializedString() }
}

/// A prefix tree over field paths, for the nested `fieldsV1` form and for
/// ordered iteration.
struct FieldSetTrie {
    var isMember = false
    var children: [FieldPathElement: FieldSetTrie] = [:]

    init() {}

    init<S: Sequence>(_ paths: S) where S.Element == FieldPath {
        for path in paths { insert(path.elements[...]) }
    }

    mutating func insert(_ path: ArraySlice<FieldPathElement>) {
        guard let first = path.first else {
            isMember = true
            return
        }
        children[first, default: FieldSetTrie()].insert(path.dropFirst())
    }

    func visitInOrder(prefix: FieldPath, _ visit: (FieldPath) -> Void) {
        let sorted = children.keys.sorted()
        for element in sorted where children[element]!.isMember { visit(prefix.appending(element)) }
        for element in sorted where !children[element]!.children.isEmpty {
            children[element]!.visitInOrder(prefix: prefix.appending(element), visit)
        }
    }
}
