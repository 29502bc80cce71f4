/// The field names each object of the config document accepts: the reader
/// rejects any other, and the JSON Schema in `docs/schemas/config.schema.json`
/// must list exactly these (a test compares them).
///
/// Each object is named as in the schema: the document is its root, the
/// others are entries of its `$defs`.
public enum ConfigKeys {
    public static let document = ["apiVersion", "kind", "client", "leaderElection", "plugins"]
    public static let client = ["qps", "burst"]
    public static let leaderElection = ["enabled", "namespace", "name", "leaseDuration", "renewDeadline", "retryPeriod"]
    public static let plugin = [
        "name", "endpoint", "command", "watch", "owns", "related", "permissions", "workers",
        "timeout", "rateLimits", "resyncPeriod", "filters", "auth", "fieldManager",
    ]
    public static let endpoint = ["url", "allowRemote", "caFile", "insecureSkipTLSVerify"]
    public static let command = [
        "path", "args", "env", "workingDirectory", "portEnv", "reconcilePath", "healthPath",
        "startTimeout", "restartBackoff",
    ]
    public static let watch = ["apiVersion", "kind", "resource", "namespaces", "labelSelector", "fieldSelector"]
    public static let ownedResource = ["apiVersion", "kind", "resource"]
    public static let relatedResource = ["apiVersion", "kind", "resource", "namespaces", "labelSelector", "name"]
    public static let permission = ["apiVersion", "kind", "resource", "namespaces", "verbs"]
    public static let rateLimits = ["dispatch", "writes", "backoff"]
    public static let rateLimit = ["qps", "burst"]
    public static let backoff = ["base", "max"]
    public static let filters = ["skipStatusOnlyChanges", "generationChangedOnly"]
    public static let auth = ["header", "scheme", "tokenFile", "tokenEnv"]

    /// Every object but the document, by its name under the schema's `$defs`.
    public static let definitions: [String: [String]] = [
        "ClientSettings": client,
        "LeaderElection": leaderElection,
        "Plugin": plugin,
        "Endpoint": endpoint,
        "Command": command,
        "Watch": watch,
        "OwnedResource": ownedResource,
        "RelatedResource": relatedResource,
        "Permission": permission,
        "RateLimits": rateLimits,
        "RateLimit": rateLimit,
        "Backoff": backoff,
        "Filters": filters,
        "Auth": auth,
    ]
}
