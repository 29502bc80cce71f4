import Foundation

/// Reads kubeconfig files and merges them the way kubectl does.
public enum KubeconfigLoader {
    /// Reads one file. A missing file is an error.
    public static func load(path: String) throws(KubeconfigError) -> Kubeconfig {
        let text = try readText(path)
        return try KubeconfigParser.parse(yaml: text, path: path)
    }

    /// Parses kubeconfig text; `path` is used for messages and as the base of relative paths.
    public static func parse(yaml: String, path: String) throws(KubeconfigError) -> Kubeconfig {
        try KubeconfigParser.parse(yaml: yaml, path: path)
    }

    /// Reads and merges a `KUBECONFIG`-style list, highest precedence first.
    ///
    /// As in kubectl: empty entries and repeated paths are ignored; files that do not
    /// exist are skipped (if none exists, `fileMissing` names the first); a file that
    /// exists but is unreadable or malformed is an error.
    public static func load(paths: [String]) throws(KubeconfigError) -> Kubeconfig {
        var seen = Set<String>()
        var configs: [Kubeconfig] = []
        let unique = paths.filter { !$0.isEmpty && seen.insert($0).inserted }
        for path in unique where FileManager.default.fileExists(atPath: path) {
            configs.append(try load(path: path))
        }
        guard !configs.isEmpty else { throw .fileMissing(path: unique.first ?? "") }
        return merge(configs)
    }

    /// Splits a `KUBECONFIG` value on `:` (the Linux and macOS list separator).
    public static func splitPathList(_ value: String) -> [String] {
        value.split(separator: ":", omittingEmptySubsequences: true).map(String.init)
    }

    /// Merges configurations, highest precedence first: the first to define a
    /// cluster, user or context name wins (whole entries, never field by field),
    /// and `current-context` comes from the first that sets it.
    public static func merge(_ configs: [Kubeconfig]) -> Kubeconfig {
        var merged = Kubeconfig()
        for config in configs {
            if merged.currentContext == nil, let current = config.currentContext {
                merged.currentContext = current
                merged.currentContextOrigin = config.currentContextOrigin
            }
            merged.clusters.merge(config.clusters) { first, _ in first }
            merged.users.merge(config.users) { first, _ in first }
            merged.contexts.merge(config.contexts) { first, _ in first }
            merged.files.append(contentsOf: config.files)
        }
        return merged
    }

    static func readText(_ path: String) throws(KubeconfigError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileMissing(path: path)
        }
        if isDirectory.boolValue { throw .fileUnreadable(path: path, reason: "is a directory") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .fileUnreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .fileUnreadable(path: path, reason: "not UTF-8 text")
        }
        return text
    }
}
