import Foundation
import PluginConfig

/// Shared fixtures: documents are parsed as `test.yaml` in `/etc/plugboard`.
enum Fixture {
    static let file = "test.yaml"
    static let base = "/etc/plugboard"

    /// The three header lines every document here starts with; plugin items begin on line 4.
    static let header = """
        apiVersion: plugboard.dev/v1alpha1
        kind: PlugboardConfig
        plugins:

        """

    /// A plugin that is valid on its own, three lines long.
    static let plugin = """
        name: web
        endpoint: {url: "http://127.0.0.1:8080/reconcile"}
        watch: {apiVersion: example.com/v1, kind: WebApp}
        """

    /// A document holding the given plugins, each written without
    /// indentation: its first line becomes `  - LINE`, the rest `    LINE`.
    /// So line N of the first plugin is line N + 3 of the file, column C is C + 4.
    static func document(plugins: String...) -> String {
        header + plugins.map { plugin in
            plugin.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .map { ($0.offset == 0 ? "  - " : "    ") + $0.element }
                .joined(separator: "\n")
        }.joined(separator: "\n") + "\n"
    }

    static func parse(_ yaml: String) throws(ConfigError) -> PlugboardConfig {
        try PlugboardConfig.parse(yaml: yaml, file: file, baseDirectory: base)
    }

    /// The issues of a document that must fail; none if it loads.
    static func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try parse(yaml)
            return []
        } catch {
            return error.issues
        }
    }

    /// The repository root, found from this file's path (links resolved, so
    /// a scratch package that links this folder in finds the real repository).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent()  // PluginConfigTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()
    }
}
