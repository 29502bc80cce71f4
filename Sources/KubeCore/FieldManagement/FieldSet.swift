/// One step of a path into an object, as server-side apply names fields.
public enum FieldPathElement: Hashable, Sendable, Comparable {
    /// A member of an object: `f:name`.
    case field(String)
    /// An element of a keyed list, by its key fields: `k:{"name":"c1"}` (compact JSON, sorted keys).
    case key(String)
    /// A value of a set list: `v:"a"` (compact JSON).
    case value(String)
    /// An element of a list by position: `i:0`.
    case index(Int)

    /// The `fieldsV1` key.
    public var encoded: String {
        switch self {
        case .field(let name): return "f:" + name
        case .key(let json): return "k:" + json
        case .value(let json): return "v:" + json
        case .index(let i): return "i:\(i)"
        }
    }

    init?(encoded: String) {
        let body = String(encoded.dropFirst(2))
        switch encoded.prefix(2) {
        case "f:": self = .field(body)
        case "k:":
            guard let json = try? JSON.parse(body), json.objectValue != nil else { return nil }
            self = .key(json.serializedString())
        case "v:":
            guard let json = try? JSON.parse(body) else { return nil }
            self = .value(json.serializedString())
        case "i:":
            guard let i = Int(body) else { return nil }
            self = .index(i)
        default: return nil
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.encoded < b.encoded }
}

public typealias FieldPath = [FieldPathElement]

/// A set of field paths: what one manager owns.
public struct FieldSet: Hashable, Sendable {
    public var paths: Set<FieldPath>

    public init(_ paths: Set<FieldPath> = []) { self.paths = paths }

    public var isEmpty: Bool { paths.isEmpty }
    public func contains(_ path: FieldPath) -> Bool { paths.contains(path) }
    public func union(_ other: FieldSet) -> FieldSet { FieldSet(paths.union(other.paths)) }
    public func subtracting(_ other: FieldSet) -> FieldSet { FieldSet(paths.subtracting(other.paths)) }
    public func intersection(_ other: FieldSet) -> FieldSet { FieldSet(paths.intersection(other.paths)) }

    /// An error in a `fieldsV1` document.
    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Reads the `fieldsV1` form: nested objects keyed by path elements, where
    /// `"."` marks a node that is itself a member.
    public init(fieldsV1 json: JSON) throws(DecodingError) {
        var paths = Set<FieldPath>()
        try Self.decode(json, prefix: [], into: &paths)
        self.paths = paths
    }

    private static func decode(_ json: JSON, prefix: FieldPath, into paths: inout Set<FieldPath>) throws(DecodingError) {
        guard case .object(let members) = json else {
            throw DecodingError(message: "fieldsV1 at \(render(prefix)): expected an object, got \(json.typeName)")
        }
        if members.isEmpty && !prefix.isEmpty { paths.insert(prefix) }
        for (key, child) in members {
            if key == "." {
                guard child.objectValue?.isEmpty == true else { throw DecodingError(message: "fieldsV1 at \(render(prefix)): \".\" must map to {}") }
                if !prefix.isEmpty { paths.insert(prefix) }
                continue
            }
            guard let element = FieldPathElement(encoded: key) else {
                throw DecodingError(message: "fieldsV1 at \(render(prefix)): invalid path element \"\(key)\"")
            }
            try decode(child, prefix: prefix + [element], into: &paths)
        }
    }

    /// The `fieldsV1` form.
    public var fieldsV1: JSON {
        final class Node {
            var children: [FieldPathElement: Node] = [:]
            var member = false
        }
        let root = Node()
        for path in paths {
            var node = root
            for element in path {
                if let next = node.children[element] { node = next } else {
                    let next = Node()
                    node.children[element] = next
                    node = next
                }
            }
            node.member = true
        }
        func render(_ node: Node) -> JSON {
            var out: [String: JSON] = [:]
            if node.member && !node.children.isEmpty { out["."] = .emptyObject }
            for (element, child) in node.children { out[element.encoded] = render(child) }
            return .object(out)
        }
        return render(root)
    }

    /// A path as Kubernetes prints it in conflicts: `.spec.containers[name="app"].image`.
    public static func render(_ path: FieldPath) -> String {
        var out = ""
        for element in path {
            switch element {
            case .field(let name): out += "." + name
            case .key(let json):
                let fields = (try? JSON.parse(json))?.objectValue ?? [:]
                out += "[" + fields.keys.sorted().map { "\($0)=\(fields[$0]!.serializedString())" }.joined(separator: ",") + "]"
            case .value(let json): out += "[=\(json)]"
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }
}
