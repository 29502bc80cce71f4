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
    /// Whether replicas elect a leader through a Lease, and its timings.
    public let leaderElection: LeaderElectionSettings
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
    public init(file: String, baseDirectory: String, client: ClientSettings = ClientSettings(),
                leaderElection: LeaderElectionSettings = LeaderElectionSettings(), plugins: [PluginSpec]) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.client = client
        self.leaderElection = leaderElection
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

/// Leader election among replicas of one host, through a
/// `coordination.k8s.io/v1` Lease, with client-go's timings by default. Off
/// by default: one replica reconciles.
public struct LeaderElectionSettings: Sendable, Hashable {
    public let enabled: Bool
    /// The Lease's namespace; nil: the `POD_NAMESPACE` environment variable
    /// at start (set it from the downward API), else `default`.
    public let namespace: String?
    /// The Lease's name.
    public let name: String
    /// How long a leader's claim holds after its last renewal: a standby
    /// takes over at most this long after a leader vanished.
    public let leaseDuration: Duration
    /// How long a leader keeps retrying a failed renewal before it stops
    /// leading (and exits, so that nothing reconciles twice).
    public let renewDeadline: Duration
    /// The interval between attempts to acquire or renew.
    public let retryPeriod: Duration

    public static let defaultName = "plugboard"
    public static let defaultLeaseDuration = Duration.seconds(15)
    public static let defaultRenewDeadline = Duration.seconds(10)
    public static let defaultRetryPeriod = Duration.seconds(2)

    public init(enabled: Bool = false, namespace: String? = nil, name: String = LeaderElectionSettings.defaultName,
                leaseDuration: Duration = LeaderElectionSettings.defaultLeaseDuration,
                renewDeadline: Duration = LeaderElectionSettings.defaultRenewDeadline,
                retryPeriod: Duration = LeaderElectionSettings.defaultRetryPeriod) {
        self.enabled = enabled
        self.namespace = namespace
        self.name = name
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }
}
