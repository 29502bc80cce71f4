import Foundation

/// One plugin: where to reach it, what it reconciles, what it may change,
/// and the limits it runs under. All defaults are resolved.
public struct PluginSpec: Sendable, Hashable {
    /// DNS-1123 label, unique in the file; names the plugin in metrics (`name` label) and logs.
    public let name: String
    /// How the host reaches the plugin.
    public let endpoint: PluginEndpoint
    /// The primary resource: one reconcile per object of it.
    public let watch: WatchSpec
    /// Child kinds whose events enqueue their controller owner.
    public let owns: [ResourceRef]
    /// Objects sent along with each request; their changes re-enqueue primaries.
    public let related: [RelatedResource]
    /// What the plugin's actions may write. When the file has no `permissions`,
    /// this is the status of the primary plus every owned kind in the
    /// primary's namespace (see `PluginSpec.defaultPermissions`). Events on the
    /// primary are always allowed and not listed.
    public let permissions: [Permission]
    /// Concurrent reconciles, 1...256; never two on one key. Default 1.
    public let workers: Int
    /// Deadline of one plugin call. Default 10 seconds.
    public let timeout: Duration
    /// Call, write and per-key retry limits.
    public let rateLimits: RateLimits
    /// How often every cached primary is enqueued again; nil (the default) turns it off.
    public let resyncPeriod: Duration?
    /// Which updates of the primary are worth a reconcile.
    public let filters: EventFilters
    /// Credentials sent to the plugin on each call, if any.
    public let auth: PluginAuth?
    /// The field manager of the plugin's server-side applies and writes. Default `plugboard-<name>`.
    public let fieldManager: String

    public static let defaultWorkers = 1
    public static let workerRange = 1...256
    public static let defaultTimeout = Duration.seconds(10)

    public init(
        name: String,
        endpoint: PluginEndpoint,
        watch: WatchSpec,
        owns: [ResourceRef] = [],
        related: [RelatedResource] = [],
        permissions: [Permission]? = nil,
        workers: Int = PluginSpec.defaultWorkers,
        timeout: Duration = PluginSpec.defaultTimeout,
        rateLimits: RateLimits = RateLimits(),
        resyncPeriod: Duration? = nil,
        filters: EventFilters = EventFilters(),
        auth: PluginAuth? = nil,
        fieldManager: String? = nil
    ) {
        self.name = name
        self.endpoint = endpoint
        self.watch = watch
        self.owns = owns
        self.related = related
        self.permissions = permissions ?? Self.defaultPermissions(primary: watch.resource, owns: owns)
        self.workers = workers
        self.timeout = timeout
        self.rateLimits = rateLimits
        self.resyncPeriod = resyncPeriod
        self.filters = filters
        self.auth = auth
        self.fieldManager = fieldManager ?? Self.defaultFieldManager(name: name)
    }

    /// `plugboard-<name>`.
    public static func defaultFieldManager(name: String) -> String { "plugboard-" + name }

    /// What a plugin without a `permissions` list may write: the status of
    /// its primary, and every verb but `status` on each owned kind, all in
    /// the primary's namespace.
    public static func defaultPermissions(primary: ResourceRef, owns: [ResourceRef]) -> [Permission] {
        [Permission(resource: primary, namespaces: .same, verbs: [.status])]
            + owns.map { Permission(resource: $0, namespaces: .same, verbs: Permission.Verb.defaultVerbs) }
    }
}

/// How the host reaches a plugin.
public enum PluginEndpoint: Sendable, Hashable {
    /// A server someone else runs.
    case url(URLEndpoint)
    /// A process the host starts, watches and restarts.
    case command(PluginCommand)
}

/// A plugin served at a fixed URL.
public struct URLEndpoint: Sendable, Hashable {
    /// The reconcile URL, http or https.
    public let url: URL
    /// Whether the host may be something other than loopback. Only with https.
    public let allowRemote: Bool
    /// PEM bundle to verify the server with instead of the system roots; https only.
    public let caFile: ResolvedPath?
    /// Skips server certificate verification. https only, never with `caFile`.
    public let insecureSkipTLSVerify: Bool

    public init(url: URL, allowRemote: Bool = false, caFile: ResolvedPath? = nil, insecureSkipTLSVerify: Bool = false) {
        self.url = url
        self.allowRemote = allowRemote
        self.caFile = caFile
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
    }
}

/// A plugin process the host starts and supervises. The host picks a free
/// loopback port, passes it in `portEnv`, waits for `healthPath` to answer,
/// then sends reconciles to `reconcilePath` on that port.
public struct PluginCommand: Sendable, Hashable {
    /// The program. A bare name (`python3`) is looked up in `PATH` when the
    /// process starts; a name with a `/` is resolved against the config directory.
    public let path: ResolvedPath
    /// Arguments, passed as they are (not resolved; they are relative to `workingDirectory`).
    public let args: [String]
    /// Variables added to the host's environment for the process.
    public let env: [String: String]
    /// Where the process runs. Default: the config file's directory.
    public let workingDirectory: ResolvedPath
    /// The variable that carries the port. Default `PLUGBOARD_PORT`.
    public let portEnv: String
    /// HTTP path of reconcile calls. Default `/reconcile`.
    public let reconcilePath: String
    /// HTTP path polled until the process is ready. Default `/healthz`.
    public let healthPath: String
    /// How long a start may take before it counts as failed. Default 30 seconds.
    public let startTimeout: Duration
    /// Delay between restarts after exits, doubling from `base` up to `max`. Default 1s to 60s.
    public let restartBackoff: Backoff

    public static let defaultPortEnv = "PLUGBOARD_PORT"
    public static let defaultReconcilePath = "/reconcile"
    public static let defaultHealthPath = "/healthz"
    public static let defaultStartTimeout = Duration.seconds(30)
    public static let defaultRestartBackoff = Backoff(base: .seconds(1), max: .seconds(60))

    public init(
        path: ResolvedPath,
        args: [String] = [],
        env: [String: String] = [:],
        workingDirectory: ResolvedPath,
        portEnv: String = PluginCommand.defaultPortEnv,
        reconcilePath: String = PluginCommand.defaultReconcilePath,
        healthPath: String = PluginCommand.defaultHealthPath,
        startTimeout: Duration = PluginCommand.defaultStartTimeout,
        restartBackoff: Backoff = PluginCommand.defaultRestartBackoff
    ) {
        self.path = path
        self.args = args
        self.env = env
        self.workingDirectory = workingDirectory
        self.portEnv = portEnv
        self.reconcilePath = reconcilePath
        self.healthPath = healthPath
        self.startTimeout = startTimeout
        self.restartBackoff = restartBackoff
    }
}

/// A path as written in the file and as the host uses it.
public struct ResolvedPath: Sendable, Hashable, CustomStringConvertible {
    /// The text in the config file.
    public let written: String
    /// Absolute, resolved against the config file's directory; for a bare
    /// command name, the name itself (it is looked up in `PATH`).
    public let resolved: String

    public init(written: String, resolved: String) {
        self.written = written
        self.resolved = resolved
    }

    public var description: String { resolved }
}

/// Credentials the host adds to every call to a plugin, so a plugin can
/// refuse callers other than its host. The token itself never appears in the
/// config file.
public struct PluginAuth: Sendable, Hashable {
    /// Where the token is read from, at start and again on each reload.
    public enum TokenSource: Sendable, Hashable {
        /// A file holding the token (surrounding white space is ignored).
        case file(ResolvedPath)
        /// An environment variable of the host process.
        case environment(String)
    }

    /// The header name. Default `Authorization`.
    public let header: String
    /// Word put before the token and a space (`Bearer`), or nil to send the
    /// token alone. Default `Bearer` for the `Authorization` header, nil for others.
    public let scheme: String?
    /// Where the token comes from.
    public let token: TokenSource

    public static let defaultHeader = "Authorization"

    public init(header: String = PluginAuth.defaultHeader, scheme: String?, token: TokenSource) {
        self.header = header
        self.scheme = scheme
        self.token = token
    }

    /// `Bearer` for `Authorization` (any case), nil for other headers.
    public static func defaultScheme(header: String) -> String? {
        header.lowercased() == "authorization" ? "Bearer" : nil
    }
}
