import KubeCore

/// Request bodies in Kubernetes' protobuf encoding, for the kinds that
/// `kubectl create namespace|configmap|secret|serviceaccount` sends that way
/// (client-go's typed clients default to protobuf). Everything else clients
/// send as JSON; responses are always JSON, which every client accepts.
enum ProtobufDecoding {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]  // "k8s\0"

    /// Decodes the `runtime.Unknown` envelope and the object inside it into JSON.
    static func decode(_ bytes: [UInt8]) throws(APIError) -> JSON {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw APIError.badRequest("protobuf body does not start with the Kubernetes magic prefix")
        }
        var apiVersion = ""
        var kind = ""
        var raw: [UInt8] = []
        var reader = ProtobufReader(bytes[4...])
        while let field = try reader.next() {
            switch (field.number, field.value) {
            case (1, .bytes(let typeMeta)):
                var inner = ProtobufReader(typeMeta)
                while let f = try inner.next() {
                    if case .bytes(let b) = f.value {
                        if f.number == 1 { apiVersion = String(decoding: b, as: UTF8.self) }
                        if f.number == 2 { kind = String(decoding: b, as: UTF8.self) }
                    }
                }
            case (2, .bytes(let b)): raw = Array(b)
            default: break
            }
        }
        let fields: [Int: FieldDecoder]
        switch (apiVersion, kind) {
        case ("v1", "Namespace"): fields = [1: .message("metadata", objectMeta), 2: .message("spec", [1: .repeatedString("finalizers")]), 3: .message("status", [1: .string("phase")])]
        case ("v1", "ConfigMap"): fields = [1: .message("metadata", objectMeta), 2: .stringMap("data"), 3: .bytesMap("binaryData"), 4: .bool("immutable")]
        case ("v1", "Secret"): fields = [1: .message("metadata", objectMeta), 2: .bytesMap("data"), 3: .string("type"), 4: .stringMap("stringData"), 5: .bool("immutable")]
        case ("v1", "ServiceAccount"):
            fields = [1: .message("metadata", objectMeta), 3: .repeatedMessage("imagePullSecrets", [1: .string("name")]), 4: .bool("automountServiceAccountToken")]
        default:
            throw APIError(code: 415, reason: "UnsupportedMediaType",
                           message: "the dev API server decodes protobuf only for v1 Namespace, ConfigMap, Secret and ServiceAccount, not \(apiVersion) \(kind); send JSON (for example kubectl apply -f or kubectl create -f)")
        }
        var object = try decodeMessage(raw[...], fields: fields)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    indirect enum FieldDecoder {
        case string(String), bool(String), int(String)
        case repeatedString(String)
        case stringMap(String), bytesMap(String)
        case message(String, [Int: FieldDecoder])
        case repeatedMessage(String, [Int: FieldDecoder])
    }

    static let objectMeta: [Int: FieldDecoder] = [
        1: .string("name"), 2: .string("generateName"), 3: .string("namespace"), 5: .string("uid"), 6: .string("resourceVersion"),
        7: .int("generation"), 11: .stringMap("labels"), 12: .stringMap("annotations"),
        13: .repeatedMessage("ownerReferences", [1: .string("kind"), 3: .string("name"), 4: .string("uid"), 5: .string("apiVersion"),
                                                 6: .bool("controller"), 7: .bool("blockOwnerDeletion")]),
        14: .repeatedString("finalizers"),
    ]

    static func decodeMessage(_ bytes: ArraySlice<UInt8>, fields: [Int: FieldDecoder]) throws(APIError) -> JSON {
        var object: JSON = .emptyObject
        var reader = ProtobufReader(bytes)
        while let field = try reader.next() {
            guard let decoder = fields[field.number] else { continue }
            switch (decoder, field.value) {
            case (.string(let name), .bytes(let b)): object[name] = .string(String(decoding: b, as: UTF8.self))
            case (.bool(let name), .varint(let v)): object[name] = .bool(v != 0)
            case (.int(let name), .varint(let v)): object[name] = .int(Int64(bitPattern: v))
            case (.repeatedString(let name), .bytes(let b)):
                object[name] = .array((object[name]?.arrayValue ?? []) + [.string(String(decoding: b, as: UTF8.self))])
            case (.stringMap(let name), .bytes(let b)), (.bytesMap(let name), .bytes(let b)):
                var entry = ProtobufReader(b)
                var key = ""
                var value: [UInt8] = []
                while let f = try entry.next() {
                    if case .bytes(let e) = f.value {
                        if f.number == 1 { key = String(decoding: e, as: UTF8.self) } else if f.number == 2 { value = Array(e) }
                    }
                }
                if case .bytesMap = decoder {
                    object[path: [name, key]] = .string(Base64.encode(value))
                } else {
                    object[path: [name, key]] = .string(String(decoding: value, as: UTF8.self))
                }
            case (.message(let name, let inner), .bytes(let b)):
                object[name] = try decodeMessage(b, fields: inner)
            case (.repeatedMessage(let name, let inner), .bytes(let b)):
                object[name] = .array((object[name]?.arrayValue ?? []) + [try decodeMessage(b, fields: inner)])
            default:
                throw APIError.badRequest("protobuf field \(field.number) has an unexpected wire type")
            }
        }
        return object
    }
}

/// Reads protobuf wire format fields one at a time.
struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func varint() throws(APIError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { break }
        }
        throw APIError.badRequest("protobuf body is truncated or has an invalid varint")
    }

    mutating func next() throws(APIError) -> (number: Int, value: Value)? {
        if bytes.isEmpty { return nil }
        let key = try varint()
        let number = Int(key >> 3)
        switch key & 7 {
        case 0: return (number, .varint(try varint()))
        case 2:
            let length = Int(try varint())
            guard length <= bytes.count else { throw APIError.badRequest("protobuf body is truncated") }
            let value = bytes.prefix(length)
            bytes = bytes.dropFirst(length)
            return (number, .bytes(value))
        case 1:
            guard bytes.count >= 8 else { throw APIError.badRequest("protobuf body is truncated") }
            bytes = bytes.dropFirst(8)
            return (number, .fixed)
        case 5:
            guard bytes.count >= 4 else { throw APIError.badRequest("protobuf body is truncated") }
            bytes = bytes.dropFirst(4)
            return (number, .fixed)
        default:
            throw APIError.badRequest("protobuf body has an unsupported wire type \(key & 7)")
        }
    }
}
