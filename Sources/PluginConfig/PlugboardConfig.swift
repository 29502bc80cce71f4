import Foundation
import Yams

/// A validated `PlugboardConfig` document: the host-wide settings and the
/// plugins to run.
///
/// Every default is already filled in and every relative path already
/// resolved against the config file's directory, so the host reads values
/// and never applies a default of its own. Values of this type only come
/// from `load(path:)` or `parse(yaml:file:baseDirectory:)`, which check the
/// whole document strictly: an unknown field, a wrong type or a bad value is
/// an error, and all errors are reported together.
public struct PlugboardConfig: Sendable, Hashable {
    /// The only `apiVersion` this build reads.
    public static let apiVersion = "plugboard.dev/v1alpha1"
    /// The document's `kind`.
    public static let kind = "PlugboardConfig"

    /// The file the document came from, as it was named.
    public let file: String
    /// The absolute directory relative paths in the document resolve against:
    /// the config file's directory.
    public let baseDirectory: String
    /// Limits for the host's own Kubernetes API client.
    public let client: ClientSettings
    /// The plugins, in file order; names are unique.
    public let plugins: [PluginSpec]

    /// Reads and validates the config file at `path`.
    public static func load(path: String) throws(ConfigError) -> PlugboardConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(issues: [ConfigIssue(file: path, line: nil, column: nil, path: "", message: unreadableReason(path))])
        }
        return try parse(yaml: text, file: path)
    }

    /// Why a file that could not be read as text could not.
    private static func unreadableReason(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "is a directory, not a config file" }
        if !FileManager.default.isReadableFile(atPath: path) { return "cannot read the file: permission denied" }
        return "cannot read the file as UTF-8 text"
    }

    /// Validates a config document held in memory.
    ///
    /// - Parameters:
    ///   - yaml: The document text.
    ///   - file: The name used in issues; also locates `baseDirectory` when that is nil.
    ///   - baseDirectory: Where relative paths resolve; by default the directory of
    ///     `file`, taken relative to the current directory.
    public static func parse(yaml: String, file: String = "plugboard.yaml", baseDirectory: String? = nil) throws(ConfigError) -> PlugboardConfig {
        let base = baseDirectory.map { PathResolver.absolute($0) } ?? PathResolver.directory(ofFile: file)
        var reader = ConfigReader(file: file, resolver: PathResolver(baseDirectory: base))
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(issues: [reader.syntaxIssue(error, yaml: yaml)])
        }
        guard let root, !ConfigReader.isNull(root) else {
            let message = "the file is empty; expected a \(kind) document with apiVersion \(apiVersion)"
            throw ConfigError(issues: [ConfigIssue(file: file, line: 1, column: 1, path: "", message: message)])
        }
        let config = reader.readDocument(root)
        guard let config, reader.issues.isEmpty else {
            throw ConfigError(issues: reader.sortedIssues)
        }
        return config
    }

    /// Builds a config from values that are already valid. The loader uses it;
    /// tests use it to spell out what they expect.
    public init(file: String, baseDirectory: String, client: ClientSettings = ClientSettings(), plugins: [PluginSpec]) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.client = client
        self.plugins = plugins
    }
}

/// Settings of the host's own API client, shared by every plugin.
public struct ClientSettings: Sendable, Hashable {
    /// Sustained requests per second and burst for the host's clientset.
    /// Default 50 QPS, burst 100: ten times client-go's 5/10, because one
    /// host serves many controllers and a low limit is what makes large
    /// syncs take minutes in older hosts.
    public let rateLimit: RateLimit

    public static let defaultRateLimit = RateLimit(qps: 50, burst: 100)

    public init(rateLimit: RateLimit = ClientSettings.defaultRateLimit) {
        self.rateLimit = rateLimit
    }
}
