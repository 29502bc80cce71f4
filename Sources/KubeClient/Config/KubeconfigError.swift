/// Everything that can go wrong while finding, reading, merging or resolving
/// client configuration (kubeconfig files and the in-cluster service account).
///
/// Every message names the file involved and, where there is one, the field
/// path inside it (for example `users[0].user.client-key-data`).
public enum KubeconfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not exist.
    case fileMissing(path: String)
    /// The file exists but could not be read.
    case fileUnreadable(path: String, reason: String)
    /// The file is not valid YAML.
    case notYAML(path: String, reason: String)
    /// A field has the wrong type or an invalid value.
    case wrongShape(path: String, field: String, problem: String)
    /// The requested (or current) context is not defined in any loaded file.
    case contextNotFound(name: String, path: String)
    /// No context was requested and no file sets `current-context`.
    case noCurrentContext(path: String)
    /// A context names a cluster that no loaded file defines.
    case clusterNotFound(name: String, context: String, path: String)
    /// A context names a user that no loaded file defines.
    case userNotFound(name: String, context: String, path: String)
    /// A field names a certificate, key or token file that does not exist or cannot be read.
    case referencedFileMissing(path: String, field: String, file: String)
    /// A `*-data` field is not valid base64 (or does not decode to text).
    case invalidBase64(path: String, field: String)
    /// The cluster has no `server`.
    case missingServer(path: String, field: String)
    /// The cluster's `server` (or `proxy-url`) is not a usable URL.
    case invalidURL(path: String, field: String, value: String)
    /// The user sets more than one way to authenticate.
    case conflictingAuthentication(path: String, field: String, methods: [String])
    /// Nothing was found anywhere in the lookup order.
    case noConfiguration(searched: [String])
    /// In-cluster configuration was requested but the environment lacks a variable.
    case notInCluster(missingVariable: String)

    public var description: String {
        switch self {
        case .fileMissing(let path):
            return "kubeconfig \(path) does not exist"
        case .fileUnreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .notYAML(let path, let reason):
            return "\(path) is not valid YAML: \(reason)"
        case .wrongShape(let path, let field, let problem):
            return "\(path): \(field): \(problem)"
        case .contextNotFound(let name, let path):
            return "context \"\(name)\" not found in \(path)"
        case .noCurrentContext(let path):
            return "no context given and current-context is not set in \(path)"
        case .clusterNotFound(let name, let context, let path):
            return "cluster \"\(name)\" (named by context \"\(context)\") not found in \(path)"
        case .userNotFound(let name, let context, let path):
            return "user \"\(name)\" (named by context \"\(context)\") not found in \(path)"
        case .referencedFileMissing(let path, let field, let file):
            return "\(path): \(field): cannot read \(file)"
        case .invalidBase64(let path, let field):
            return "\(path): \(field): not valid base64-encoded PEM"
        case .missingServer(let path, let field):
            return "\(path): \(field): no server set"
        case .invalidURL(let path, let field, let value):
            return "\(path): \(field): \"\(value)\" is not a valid URL"
        case .conflictingAuthentication(let path, let field, let methods):
            return "\(path): \(field): more than one authentication method set (\(methods.joined(separator: ", "))); only one is allowed"
        case .noConfiguration(let searched):
            return "no Kubernetes client configuration found (looked at: \(searched.joined(separator: ", ")))"
        case .notInCluster(let variable):
            return "not running in a cluster: \(variable) is not set"
        }
    }
}
