/// One step of a path into an object, named the way server-side apply names
/// it in `fieldsV1`.
///
/// Keys and set values are kept as canonical JSON text (compact, sorted keys,
/// integral numbers without a fraction) so that two spellings of the same
/// element hash and compare equal, and so that encoding to `fieldsV1` is a
/// plain string concatenation.
public enum FieldPathElement: Hashable, Sendable {
    /// A member of an object: `f:name`.
    case field(String)
    /// An element of a keyed list, by its key fields: `k:{"name":"c1"}`.
    case key(String)
    /// A value of a set list: `v:"a"`.
    case value(String)
    /// An element of a list by position: `i:0`.
    case index(Int)

    /// The element of a keyed list whose key fields have these values.
    public init(key fields: [String: JSON]) {
        self = .key(JSON.object(fields).serializedString())
    }

    /// The element of a set list holding this value.
    public init(value: JSON) {
        self = .value(value.serializedString())
    }

    /// The `fieldsV1` key of this element.
    public var encoded: String {
        switch self {
        case .field(let name): return "f:" + name
        case .key(let json): return "k:" + json
        case .value(let json): return "v:" + json
        case .index(let i): return "i:\(i)"
        }
    }

    /// The key fields of a `.key` element.
    var keyFields: [String: JSON]? {
        guard case .key(let text) = self else { return nil }
        return (try? JSON.parse(text))?.objectValue
    }

    /// The value of a `.value` element.
    var setValue: JSON? {
        guard case .value(let text) = self else { return nil }
        return try? JSON.parse(text)
    }

    /// How Kubernetes prints the element in conflict messages:
    /// `.image`, `[name="nginx"]`, `[="a"]`, `[0]`.
    public var kubernetesDescription: String {
        switch self {
        case .field(let name):
            return "." + name
        case .key:
            let fields = keyFields ?? [:]
            let parts = fields.keys.sorted().map { "\($0)=\(FieldPathElement.render(fields[$0]!))" }
            return "[" + parts.joined(separator: ",") + "]"
        case .value:
            return "[=" + FieldPathElement.render(setValue ?? .null) + "]"
        case .index(let i):
            return "[\(i)]"
        }
    }

    /// A value as structured-merge-diff prints it: strings Go-quoted, numbers
    /// and booleans bare, lists bracketed, maps as `key=value` runs.
    static func render(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return GoFormat.float(d)
        case .string(let s): return GoFormat.quote(s)
        case .array(let items): return "[" + items.map(render).joined(separator: ",") + "]"
        case .object(let members): return members.keys.sorted().map { "\($0)=\(render(members[$0]!))" }.joined()
        }
    }
}
