/// A JSON value, as the Kubernetes API sees it.
///
/// Integers and floating-point numbers stay apart, as in Go's unstructured
/// decoding: a number written without a fraction or exponent that fits in
/// 64 bits is `.int`, anything else is `.double`. Objects are unordered;
/// serialization sorts keys, which is what the API server does for
/// unstructured objects.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])
}

extension JSON {
    public static let emptyObject = JSON.object([:])

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var objectValue: [String: JSON]? { if case .object(let o) = self { return o } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }

    /// The value as an integer: `.int`, or a `.double` with no fractional part.
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The name of the JSON type, as used in error messages ("string", "object", …).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Member access on objects. Reading a missing key or reading from a
    /// non-object gives nil. Writing to a non-object turns it into an object;
    /// writing nil removes the key.
    public subscript(key: String) -> JSON? {
        get {
            if case .object(let o) = self { return o[key] }
            return nil
        }
        set {
            var o: [String: JSON]
            if case .object(let existing) = self { o = existing } else { o = [:] }
            self = .null  // release the old storage so `o` is uniquely referenced
            o[key] = newValue
            self = .object(o)
        }
    }

    /// Nested member access: `json[path: ["metadata", "labels"]]`.
    /// Setting creates intermediate objects as needed; setting nil removes the
    /// last key (and leaves the intermediate objects in place).
    public subscript(path path: [String]) -> JSON? {
        get {
            var current: JSON? = self
            for key in path { current = current?[key] }
            return current
        }
        set {
            guard let first = path.first else {
                self = newValue ?? .null
                return
            }
            if path.count == 1 {
                self[first] = newValue
                return
            }
            var child = self[first] ?? .emptyObject
            if case .object = child {} else { child = .emptyObject }
            child[path: Array(path.dropFirst())] = newValue
            self[first] = child
        }
    }
}

// Deliberately not ExpressibleByNilLiteral: `nil` must always mean "absent"
// (Optional.none), never JSON null, or `x ? nil : y` silently writes nulls.
extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSON: CustomStringConvertible {
    public var description: String { serializedString() }
}
