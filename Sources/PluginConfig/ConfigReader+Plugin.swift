import Foundation
import Yams

/// Reading one plugin and its endpoint, limits and credentials.
extension ConfigReader {
    /// Hints for names people write in the wrong place.
    static let pluginHints = [
        "url": "unknown field \"url\"; a URL goes under endpoint (endpoint: {url: ...})",
        "token": "unknown field \"token\"; credentials go under auth, read from tokenFile or tokenEnv",
    ]
    static let authHints = [
        "token": "unknown field \"token\"; a literal token is not allowed in the config file: put it in a file (tokenFile) or an environment variable (tokenEnv)",
    ]

    mutating func readPlugin(_ value: Located) -> PluginSpec? {
        let start = issues.count
        guard let plugin = fields(value, allowed: ConfigKeys.plugin, hints: Self.pluginHints) else { return nil }

        let name = require(plugin, "name").flatMap { string($0, NameRules.dnsLabel) }
        let endpoint = readEndpointChoice(plugin)
        let watch = require(plugin, "watch").flatMap { readWatch($0) }
        let owns = plugin["owns"].flatMap { items($0) { $0.readOwned($1) } } ?? []
        let related = plugin["related"].flatMap { items($0) { $0.readRelated($1) } } ?? []
        let permissions = plugin["permissions"].flatMap { items($0) { $0.readPermission($1) } }
        let workers = plugin["workers"].flatMap { int($0, in: PluginSpec.workerRange) } ?? PluginSpec.defaultWorkers
        let timeout = plugin["timeout"].flatMap { duration($0, positive: true) } ?? PluginSpec.defaultTimeout
        let rateLimits = plugin["rateLimits"].map { readRateLimits($0) } ?? RateLimits()
        let resync = plugin["resyncPeriod"].flatMap { duration($0, positive: false) }
        let filters = plugin["filters"].map { readFilters($0) } ?? EventFilters()
        let auth = plugin["auth"].flatMap { readAuth($0) }
        let fieldManager = plugin["fieldManager"].flatMap { string($0, NameRules.fieldManager) }

        guard issues.count == start, let name, let endpoint, let watch else { return nil }
        return PluginSpec(
            name: name, endpoint: endpoint, watch: watch, owns: owns, related: related, permissions: permissions,
            workers: workers, timeout: timeout, rateLimits: rateLimits,
            resyncPeriod: resync == .zero ? nil : resync,
            filters: filters, auth: auth, fieldManager: fieldManager
        )
    }

    /// Each item of a list read by `read`; nil if the value is not a list or
    /// any item is unusable (every item is still checked).
    mutating func items<T>(_ value: Located, _ read: (inout ConfigReader, Located) -> T?) -> [T]? {
        guard let items = list(value) else { return nil }
        var results: [T] = []
        var complete = true
        for item in items {
            if let result = read(&self, item) { results.append(result) } else { complete = false }
        }
        return complete ? results : nil
    }

    // MARK: Endpoint

    /// Exactly one of `endpoint` and `command`.
    mutating func readEndpointChoice(_ plugin: Fields) -> PluginEndpoint? {
        let url = plugin["endpoint"].flatMap { readURLEndpoint($0) }
        let command = plugin["command"].flatMap { readCommand($0) }
        switch (plugin.has("endpoint"), plugin.has("command")) {
        case (true, true):
            report("set exactly one of endpoint or command, not both", at: plugin.path, mark: plugin.keyMark("command"))
            return nil
        case (false, false):
            report("one of endpoint (a running server) or command (a process the host starts) is required",
                   at: plugin.path, mark: plugin.mark)
            return nil
        default:
            return url.map { .url($0) } ?? command.map { .command($0) }
        }
    }

    mutating func readURLEndpoint(_ value: Located) -> URLEndpoint? {
        let start = issues.count
        guard let endpoint = fields(value, allowed: ConfigKeys.endpoint) else { return nil }
        let urlValue = require(endpoint, "url")
        let url = urlValue.flatMap { parseURL($0) }
        let allowRemote = endpoint["allowRemote"].flatMap { bool($0) } ?? false
        let caFile = endpoint["caFile"].flatMap { string($0, Self.nonEmpty) }.map { resolver.resolve($0) }
        let insecure = endpoint["insecureSkipTLSVerify"].flatMap { bool($0) } ?? false
        guard issues.count == start, let url, let urlValue else { return nil }

        let isHTTPS = url.scheme == "https"
        if let host = url.host, !allowRemote && !NameRules.isLoopbackHost(host) {
            report("host \(Self.quote(host)) is not loopback (127.0.0.0/8, ::1 or localhost); "
                   + "to call a plugin on another machine set allowRemote: true and use https", at: urlValue)
        }
        if allowRemote && !isHTTPS, let flag = endpoint["allowRemote"] {
            report("allowRemote needs an https URL: over plain http, requests and tokens cross the network readable", at: flag)
        }
        if caFile != nil && !isHTTPS, let file = endpoint["caFile"] {
            report("caFile applies only to https URLs", at: file)
        }
        if insecure, let flag = endpoint["insecureSkipTLSVerify"] {
            if !isHTTPS {
                report("insecureSkipTLSVerify applies only to https URLs", at: flag)
            } else if caFile != nil {
                report("cannot be combined with caFile: either verify the server with that CA or skip verification", at: flag)
            }
        }
        guard issues.count == start else { return nil }
        return URLEndpoint(url: url, allowRemote: allowRemote, caFile: caFile, insecureSkipTLSVerify: insecure)
    }

    /// An absolute http or https URL with a host, without credentials or a fragment.
    mutating func parseURL(_ value: Located) -> URL? {
        guard let text = string(value) else { return nil }
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            report("must be an http:// or https:// URL, got \(Self.quote(text))", at: value)
            return nil
        }
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty,
              let url = components.url
        else {
            report("must be a URL such as \"http://127.0.0.1:8080/reconcile\", got \(Self.quote(text))", at: value)
            return nil
        }
        if components.user != nil || components.password != nil {
            report("must not hold credentials; use auth with tokenFile or tokenEnv", at: value)
            return nil
        }
        if components.fragment != nil {
            report("must not have a fragment ('#'), got \(Self.quote(text))", at: value)
            return nil
        }
        if let port = components.port, !(1...65535).contains(port) {
            report("port must be from 1 to 65535, got \(port)", at: value)
            return nil
        }
        return url
    }

    mutating func readCommand(_ value: Located) -> PluginCommand? {
        let start = issues.count
        guard let command = fields(value, allowed: ConfigKeys.command) else { return nil }
        let path = require(command, "path").flatMap { string($0, Self.nonEmpty) }.map { resolver.resolveProgram($0) }
        let args = command["args"].flatMap { items($0) { $0.string($1) } } ?? []
        let portEnv = command["portEnv"].flatMap { string($0, NameRules.environmentVariable) } ?? PluginCommand.defaultPortEnv
        let env = command["env"].flatMap { readEnvironment($0, portEnv: portEnv) } ?? [:]
        let workingDirectory = resolver.resolve(command["workingDirectory"].flatMap { string($0, Self.nonEmpty) } ?? ".")
        let reconcilePath = command["reconcilePath"].flatMap { string($0, NameRules.httpPath) } ?? PluginCommand.defaultReconcilePath
        let healthPath = command["healthPath"].flatMap { string($0, NameRules.httpPath) } ?? PluginCommand.defaultHealthPath
        let startTimeout = command["startTimeout"].flatMap { duration($0, positive: true) } ?? PluginCommand.defaultStartTimeout
        let restartBackoff = command["restartBackoff"].flatMap { readBackoff($0, defaults: PluginCommand.defaultRestartBackoff) }
            ?? PluginCommand.defaultRestartBackoff
        guard issues.count == start, let path else { return nil }
        return PluginCommand(
            path: path, args: args, env: env, workingDirectory: workingDirectory, portEnv: portEnv,
            reconcilePath: reconcilePath, healthPath: healthPath, startTimeout: startTimeout, restartBackoff: restartBackoff
        )
    }

    /// A mapping of variable names to string values, not setting `portEnv`
    /// (the host sets that one itself).
    mutating func readEnvironment(_ value: Located, portEnv: String) -> [String: String]? {
        guard case .mapping(let mapping) = value.node else {
            report("must be a mapping of variable names to strings, got \(Self.describe(value.node))", at: value)
            return nil
        }
        let start = issues.count
        var environment: [String: String] = [:]
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode, keyNode.tagName == .str else {
                report("variable names must be strings, got \(Self.describe(keyNode))", at: value.path, mark: keyNode.mark)
                continue
            }
            let path = Self.path(value.path, key.string)
            if let problem = NameRules.environmentVariable(key.string) {
                report("\(problem), got \(Self.quote(key.string))", at: path, mark: keyNode.mark)
            } else if key.string == portEnv {
                report("the host sets \(portEnv) itself, to the port it picks (see portEnv)", at: path, mark: keyNode.mark)
            }
            if let text = string(Located(node: valueNode, path: path)) { environment[key.string] = text }
        }
        return issues.count == start ? environment : nil
    }

    // MARK: Limits

    mutating func readRateLimits(_ value: Located) -> RateLimits {
        guard let limits = fields(value, allowed: ConfigKeys.rateLimits) else { return RateLimits() }
        let dispatch = limits["dispatch"].map { readRateLimit($0, defaults: RateLimits.defaultDispatch) } ?? RateLimits.defaultDispatch
        let writes = limits["writes"].map { readRateLimit($0, defaults: RateLimits.defaultWrites) } ?? RateLimits.defaultWrites
        let backoff = limits["backoff"].flatMap { readBackoff($0, defaults: RateLimits.defaultBackoff) } ?? RateLimits.defaultBackoff
        return RateLimits(dispatch: dispatch, writes: writes, backoff: backoff)
    }

    /// A rate limit; a field left out keeps its default.
    mutating func readRateLimit(_ value: Located, defaults: RateLimit) -> RateLimit {
        guard let limit = fields(value, allowed: ConfigKeys.rateLimit) else { return defaults }
        let qps = limit["qps"].flatMap { positiveNumber($0) } ?? defaults.qps
        let burst = limit["burst"].flatMap { int($0, in: 1...Int.max) } ?? defaults.burst
        return RateLimit(qps: qps, burst: burst)
    }

    /// A backoff; a field left out keeps its default, and `base` may not exceed `max`.
    mutating func readBackoff(_ value: Located, defaults: Backoff) -> Backoff? {
        let start = issues.count
        guard let backoff = fields(value, allowed: ConfigKeys.backoff) else { return nil }
        let base = backoff["base"].flatMap { duration($0, positive: true) } ?? defaults.base
        let max = backoff["max"].flatMap { duration($0, positive: true) } ?? defaults.max
        guard issues.count == start else { return nil }
        if base > max {
            let place = backoff["base"] ?? backoff["max"] ?? value
            report("base (\(GoDuration.format(base))) must not exceed max (\(GoDuration.format(max)))", at: place.path, mark: place.mark)
            return nil
        }
        return Backoff(base: base, max: max)
    }

    mutating func readFilters(_ value: Located) -> EventFilters {
        guard let filters = fields(value, allowed: ConfigKeys.filters) else { return EventFilters() }
        let defaults = EventFilters()
        return EventFilters(
            skipStatusOnlyChanges: filters["skipStatusOnlyChanges"].flatMap { bool($0) } ?? defaults.skipStatusOnlyChanges,
            generationChangedOnly: filters["generationChangedOnly"].flatMap { bool($0) } ?? defaults.generationChangedOnly
        )
    }

    // MARK: Credentials

    mutating func readAuth(_ value: Located) -> PluginAuth? {
        let start = issues.count
        guard let auth = fields(value, allowed: ConfigKeys.auth, hints: Self.authHints) else { return nil }
        let header = auth["header"].flatMap { string($0, NameRules.headerName) } ?? PluginAuth.defaultHeader
        var scheme = PluginAuth.defaultScheme(header: header)
        if let value = auth["scheme"], let written = string(value, Self.schemeWord) {
            scheme = written.isEmpty ? nil : written  // An explicit empty scheme sends the token alone.
        }
        let tokenFile = auth["tokenFile"].flatMap { string($0, Self.nonEmpty) }
        let tokenEnv = auth["tokenEnv"].flatMap { string($0, NameRules.environmentVariable) }
        switch (auth.has("tokenFile"), auth.has("tokenEnv")) {
        case (true, true):
            report("set exactly one of tokenFile or tokenEnv, not both", at: auth.path, mark: auth.keyMark("tokenEnv"))
        case (false, false):
            report("one of tokenFile or tokenEnv is required; the token itself never goes in the config file",
                   at: auth.path, mark: auth.mark)
        default:
            break
        }
        guard issues.count == start else { return nil }
        let token: PluginAuth.TokenSource = tokenFile.map { .file(resolver.resolve($0)) } ?? .environment(tokenEnv ?? "")
        return PluginAuth(header: header, scheme: scheme, token: token)
    }

    static func schemeWord(_ text: String) -> String? {
        text.isEmpty || NameRules.headerName(text) == nil ? nil : "must be a single word such as \"Bearer\", or empty"
    }

    static func nonEmpty(_ text: String) -> String? {
        text.isEmpty ? "must not be empty" : nil
    }
}
