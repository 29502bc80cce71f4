import KubeCore
import Yams

/// Objects created from a YAML file before anything else runs (`plugboard dev
/// --manifest`): CRDs of the example plugins, sample objects.
extension ObjectStore {
    /// A manifest that could not be loaded, with the file and document number.
    public struct ManifestError: Error, CustomStringConvertible {
        public var file: String
        public var document: Int
        public var message: String
        public var description: String { "\(file): document \(document): \(message)" }
    }

    /// Creates every object of a multi-document YAML text, in order; an object
    /// that exists is left as it is. Returns `kind/name` of each object.
    @discardableResult
    public func load(manifests text: String, file: String) throws(ManifestError) -> [String] {
        // Parser.nextRoot rather than compose_all: the latter's sequence ends quietly at a syntax error.
        var nodes: [Node] = []
        do {
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() { nodes.append(node) }
        } catch {
            throw ManifestError(file: file, document: nodes.count + 1, message: "not YAML: \(error)")
        }
        var loaded: [String] = []
        for (index, node) in nodes.enumerated() {
            let document = index + 1
            do throws(APIError) {
                let object = try BodyDecoding.json(from: node, path: "")
                if object.isNull { continue }
                guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue else {
                    throw APIError.badRequest("apiVersion and kind are required")
                }
                let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
                let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", apiVersion)
                guard let info = allResources().first(where: { $0.group == group && $0.kind == kind && $0.versions.contains(version) }) else {
                    throw APIError.badRequest("the server does not serve \(kind) in \(apiVersion) (is its CRD earlier in the file?)")
                }
                let namespace = info.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? "default") : nil
                do {
                    _ = try create(info, version: version, namespace: namespace, body: object, options: WriteOptions(fieldManager: "plugboard-dev"))
                } catch let error where error.code == 409 {
                    // Already there: keep it.
                }
                loaded.append("\(kind)/\(object[path: ["metadata", "name"]]?.stringValue ?? "")")
            } catch {
                throw ManifestError(file: file, document: document, message: error.message)
            }
        }
        return loaded
    }
}
