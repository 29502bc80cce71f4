import Foundation
import PlugboardPlugin

/// Reconciles ConfigMaps labelled `plugboard.dev/checksum=true`: keeps the
/// annotation `plugboard.dev/checksum` equal to `sha256:<hex>` of the content.
enum ChecksumAnnotator {
    static let label = "plugboard.dev/checksum"
    static let annotation = "plugboard.dev/checksum"

    struct InvalidConfigMap: Error, CustomStringConvertible {
        var description: String
    }

    @Sendable static func reconcile(_ request: ReconcileRequest) throws -> ReconcileResponse {
        // Gone, or on its way out: there is nothing to stamp.
        guard let configMap = request.object, !request.deleting else { return ReconcileResponse() }
        // The host's label selector already filters; this guards a config without one.
        guard request.labels[label] == "true" else { return ReconcileResponse() }

        let checksum = "sha256:" + SHA256.hex(try canonicalContent(configMap))
        if request.annotations[annotation] == checksum { return ReconcileResponse() }
        return ReconcileResponse(actions: [
            .patch(apiVersion: "v1", kind: "ConfigMap", namespace: request.key.namespace, name: request.key.name,
                   patchType: .merge, patch: ["metadata": ["annotations": [annotation: checksum]]]),
            .event(.normal, reason: "ChecksumUpdated", message: "checksum \(checksum.prefix("sha256:".count + 12))"),
        ])
    }

    /// The bytes that are hashed: every entry of `data` and `binaryData`
    /// (whose values are the base64 text the API server holds), sorted by key
    /// (by UTF-8 bytes), one `key=value\n` line each. Kubernetes forbids the
    /// same key in both maps.
    static func canonicalContent(_ configMap: JSONObject) throws -> [UInt8] {
        var entries: [(key: [UInt8], value: [UInt8])] = []
        for field in ["data", "binaryData"] {
            guard let map = configMap[field], !(map is NSNull) else { continue }
            guard let values = map as? [String: Any] else { throw InvalidConfigMap(description: "\(field) is not an object") }
            for (key, value) in values {
                guard let text = value as? String else { throw InvalidConfigMap(description: "\(field).\(key) is not a string") }
                entries.append((Array(key.utf8), Array(text.utf8)))
            }
        }
        entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var out: [UInt8] = []
        for entry in entries {
            out += entry.key
            out.append(UInt8(ascii: "="))
            out += entry.value
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }
}
