extension FieldSet {
    /// A `fieldsV1` document that is not a field set.
    public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Where in the set the problem is, as Kubernetes prints paths (empty for the root).
        public var location: String
        public var message: String

        public var description: String {
            location.isEmpty ? "invalid fieldsV1: \(message)" : "invalid fieldsV1 at \(location): \(message)"
        }
    }

    /// Reads the `fieldsV1` form: nested objects keyed by encoded path
    /// elements, where `{}` is a member with nothing below it and a `"."` key
    /// marks a node that is a member and also has members below.
    ///
    /// Follows structured-merge-diff's reader: keys with an unknown type
    /// letter (`x:…`) are skipped so that newer element kinds do not break
    /// older readers, `null` counts as `{}`, and the value under `"."` is not
    /// looked at. Anything else that is not well formed is an error.
    public init(fieldsV1 json: JSON) throws(DecodingError) {
        var paths = Set<FieldPath>()
        switch json {
        case .null: break
        case .object(let members): try Self.decodeMembers(members, at: FieldPath(), into: &paths)
        default: throw DecodingError(location: "", message: "expected an object, got \(json.typeName)")
        }
        self.init(paths)
    }

    /// Decodes the members of one node; returns whether the node itself is a member.
    @discardableResult
    private static func decodeMembers(_ members: [String: JSON], at prefix: FieldPath,
                                      into paths: inout Set<FieldPath>) throws(DecodingError) -> Bool {
        var isMember = false
        var hasChildren = false
        for (key, child) in members {
            if key == "." {
                isMember = true
                continue
            }
            guard let element = try decodeElement(key, at: prefix) else { continue }
            hasChildren = true
            let path = prefix.appending(element)
            switch child {
            case .null:
                paths.insert(path)
            case .object(let grandchildren):
                if try decodeMembers(grandchildren, at: path, into: &paths) { paths.insert(path) }
            default:
                throw DecodingError(location: path.description, message: "expected an object, got \(child.typeName)")
            }
        }
        return isMember || !hasChildren
    }

    /// One `fieldsV1` key; nil for a well-formed key of a type this reader does not know.
    private static func decodeElement(_ key: String, at prefix: FieldPath) throws(DecodingError) -> FieldPathElement? {
        func fail(_ message: String) -> DecodingError {
            DecodingError(location: prefix.description, message: "key \(GoFormat.quote(key)): \(message)")
        }
        let scalars = Array(key.unicodeScalars)
        guard scalars.count >= 2 else { throw fail("a path element needs a type letter and a colon") }
        guard scalars[1] == ":" else { throw fail("missing colon after the type letter") }
        let body = String(key.unicodeScalars.dropFirst(2))
        switch scalars[0] {
        case "f":
            return .field(body)
        case "k":
            guard let json = try? JSON.parse(body), case .object(let fields) = json else {
                throw fail("a keyed element must be a JSON object")
            }
            return FieldPathElement(key: fields)
        case "v":
            guard let json = try? JSON.parse(body) else { throw fail("a set value must be JSON") }
            return FieldPathElement(value: json)
        case "i":
            guard let index = Int(body) else { throw fail("an index must be an integer") }
            return .index(index)
        default:
            return nil
        }
    }

    /// The `fieldsV1` form of the set.
    public var fieldsV1: JSON {
        Self.encode(FieldSetTrie(paths))
    }

    private static func encode(_ node: FieldSetTrie) -> JSON {
        var out: [String: JSON] = [:]
        if node.isMember && !node.children.isEmpty { out["."] = .emptyObject }
        for (element, child) in node.children { out[element.encoded] = encode(child) }
        return .object(out)
    }
}
