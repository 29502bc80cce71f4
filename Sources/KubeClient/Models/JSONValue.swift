import KubeCore

/// KubeCore's `JSON` inside Codable models, for the parts that stay untyped
/// (schemas, subresources).
public struct JSONValue: Codable, Sendable, Equatable {
    public var json: JSON

    public init(_ json: JSON) { self.json = json }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            json = .null
        } else if let b = try? container.decode(Bool.self) {
            json = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            json = .int(i)
        } else if let d = try? container.decode(Double.self) {
            json = .double(d)
        } else if let s = try? container.decode(String.self) {
            json = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            json = .array(a.map(\.json))
        } else {
            json = .object(try container.decode([String: JSONValue].self).mapValues(\.json))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch json {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a.map(JSONValue.init))
        case .object(let o): try container.encode(o.mapValues(JSONValue.init))
        }
    }
}
