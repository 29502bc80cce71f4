import Yams

/// Reading the document and its host-wide settings.
extension ConfigReader {
    mutating func readDocument(_ root: Node) -> PlugboardConfig? {
        let start = issues.count
        guard case .mapping = root else {
            report("the document must be a mapping with apiVersion, kind and plugins, got \(Self.describe(root))", at: "", mark: root.mark)
            return nil
        }
        guard let document = fields(Located(node: root, path: ""), allowed: ConfigKeys.document) else { return nil }

        if let value = require(document, "apiVersion"), let apiVersion = string(value), apiVersion != PlugboardConfig.apiVersion {
            report("unsupported apiVersion \(Self.quote(apiVersion)); this version of Plugboard reads \(Self.quote(PlugboardConfig.apiVersion))", at: value)
        }
        if let value = require(document, "kind"), let kind = string(value), kind != PlugboardConfig.kind {
            report("must be \(Self.quote(PlugboardConfig.kind)), got \(Self.quote(kind))", at: value)
        }
        let client = document["client"].map { readClient($0) } ?? ClientSettings()
        let leaderElection = document["leaderElection"].map { readLeaderElection($0) } ?? LeaderElectionSettings()

        var plugins: [PluginSpec] = []
        if let value = document["plugins"], let items = list(value) {
            for item in items {
                if let plugin = readPlugin(item) { plugins.append(plugin) }
            }
            checkUnique(items)
        }

        guard issues.count == start else { return nil }
        return PlugboardConfig(file: file, baseDirectory: resolver.baseDirectory, client: client, leaderElection: leaderElection, plugins: plugins)
    }

    mutating func readClient(_ value: Located) -> ClientSettings {
        guard let client = fields(value, allowed: ConfigKeys.client) else { return ClientSettings() }
        let defaults = ClientSettings.defaultRateLimit
        let qps = client["qps"].flatMap { positiveNumber($0) } ?? defaults.qps
        let burst = client["burst"].flatMap { int($0, in: 1...Int.max) } ?? defaults.burst
        return ClientSettings(rateLimit: RateLimit(qps: qps, burst: burst))
    }

    mutating func readLeaderElection(_ value: Located) -> LeaderElectionSettings {
        guard let election = fields(value, allowed: ConfigKeys.leaderElection) else { return LeaderElectionSettings() }
        typealias Defaults = LeaderElectionSettings
        let enabled = election["enabled"].flatMap { bool($0) } ?? false
        let namespace = election["namespace"].flatMap { string($0, NameRules.dnsLabel) }
        let name = election["name"].flatMap { string($0, NameRules.dnsSubdomain) } ?? Defaults.defaultName
        // Each timing: as written, the default when absent, nil when written wrong (already reported).
        func timing(_ key: String, _ fallback: Duration) -> Duration? {
            guard let written = election[key] else { return fallback }
            return duration(written, positive: true)
        }
        let lease = timing("leaseDuration", Defaults.defaultLeaseDuration)
        let renew = timing("renewDeadline", Defaults.defaultRenewDeadline)
        let retry = timing("retryPeriod", Defaults.defaultRetryPeriod)
        // As client-go: a leader must give up before its lease can expire under it, and retry
        // more than once before it gives up. A timing written wrong is not compared (its error
        // is enough; a comparison with the default would name a value nobody wrote).
        if let renew, let lease, renew >= lease {
            report("renewDeadline (\(GoDuration.format(renew))) must be shorter than leaseDuration (\(GoDuration.format(lease)))",
                   at: election["renewDeadline"] ?? election["leaseDuration"] ?? value)
        }
        if let retry, let renew, retry >= renew {
            report("retryPeriod (\(GoDuration.format(retry))) must be shorter than renewDeadline (\(GoDuration.format(renew)))",
                   at: election["retryPeriod"] ?? election["renewDeadline"] ?? value)
        }
        return LeaderElectionSettings(enabled: enabled, namespace: namespace, name: name,
                                      leaseDuration: lease ?? Defaults.defaultLeaseDuration,
                                      renewDeadline: renew ?? Defaults.defaultRenewDeadline,
                                      retryPeriod: retry ?? Defaults.defaultRetryPeriod)
    }

    /// Plugin names must be unique, and so must field managers, or two
    /// plugins would share ownership of the fields they apply. Checked on the
    /// raw items, so a plugin with other problems still takes part.
    mutating func checkUnique(_ items: [Located]) {
        var names: [String: Int] = [:]
        var managers: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            guard case .mapping(let mapping) = item.node else { continue }
            func scalar(_ key: String) -> (text: String, node: Node)? {
                guard let node = mapping[key], case .scalar(let scalar) = node, node.tagName == .str else { return nil }
                return (scalar.string, node)
            }
            let name = scalar("name")
            var nameIsDuplicate = false
            if let name {
                if let earlier = names[name.text] {
                    nameIsDuplicate = true
                    report("duplicate plugin name \(Self.quote(name.text)); plugins[\(earlier)] already has it",
                           at: Self.path(item.path, "name"), mark: name.node.mark)
                } else {
                    names[name.text] = index
                }
            }
            if let manager = scalar("fieldManager") {
                if let earlier = managers[manager.text] {
                    report("fieldManager \(Self.quote(manager.text)) is already used by plugins[\(earlier)]; each plugin needs its own",
                           at: Self.path(item.path, "fieldManager"), mark: manager.node.mark)
                } else {
                    managers[manager.text] = index
                }
            } else if let name, !nameIsDuplicate {
                // A repeated name already explains a repeated default.
                let manager = PluginSpec.defaultFieldManager(name: name.text)
                if let earlier = managers[manager] {
                    report("the default fieldManager \(Self.quote(manager)) is already used by plugins[\(earlier)]; set fieldManager",
                           at: Self.path(item.path, "name"), mark: name.node.mark)
                } else {
                    managers[manager] = index
                }
            }
        }
    }
}
