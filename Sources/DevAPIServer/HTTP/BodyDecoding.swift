import KubeCore
import Yams

/// Request bodies: JSON, or YAML for the content types that allow it.
enum BodyDecoding {
    static func decode(_ bytes: [UInt8], contentType: String) throws(APIError) -> JSON {
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch media {
        case "application/vnd.kubernetes.protobuf":
            return try ProtobufDecoding.decode(bytes)
        case "application/yaml", "application/apply-patch+yaml":
            return try decodeYAML(bytes)
        case "", "application/json", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "*/*":
            do {
                return try JSON.parse(bytes)
            } catch {
                throw APIError.badRequest("error decoding body: json parse error: \(error)")
            }
        default:
            throw APIError.unsupportedMediaType(contentType)
        }
    }

    /// YAML (a superset of JSON) into a JSON value, one document only. Scalars
    /// become numbers, booleans and nulls by YAML 1.1's rules, everything else
    /// (timestamps included) stays a string, as sigs.k8s.io/yaml does.
    static func decodeYAML(_ bytes: [UInt8]) throws(APIError) -> JSON {
        if let json = try? JSON.parse(bytes) { return json }
        let text = String(decoding: bytes, as: UTF8.self)
        var nodes: [Node] = []
        do {
            // Parser.nextRoot rather than compose_all, whose sequence ends quietly at a syntax error.
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() { nodes.append(node) }
        } catch {
            throw APIError.badRequest("error converting YAML to JSON: \(error)")
        }
        guard nodes.count == 1 else {
            throw APIError.badRequest(nodes.isEmpty ? "error converting YAML to JSON: the body is empty" : "error converting YAML to JSON: expected one document, found \(nodes.count)")
        }
        return try json(from: nodes[0], path: "")
    }

    static func json(from node: Node, path: String) throws(APIError) -> JSON {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSON.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSON.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            var out: [JSON] = []
            for (i, item) in sequence.enumerated() { out.append(try json(from: item, path: "\(path)[\(i)]")) }
            return .array(out)
        case .mapping(let mapping):
            var out: [String: JSON] = [:]
            for (key, value) in mapping {
                guard case .scalar(let k) = key else {
                    throw APIError.badRequest("error converting YAML to JSON: a map key at \(path.isEmpty ? "the top level" : path) is not a string")
                }
                out[k.string] = try json(from: value, path: path.isEmpty ? k.string : "\(path).\(k.string)")
            }
            return .object(out)
        case .alias:
            throw APIError.badRequest("error converting YAML to JSON: aliases are not supported (at \(path.isEmpty ? "the top level" : path))")
        }
    }
}
