import KubeCore
import Testing
@testable import PluginConfig

/// One bad plugin and the single issue it must produce.
struct BadPlugin: CustomTestStringConvertible, Sendable {
    let name: String
    /// The plugin, unindented (see `Fixture.document(plugins:)`).
    let plugin: String
    let path: String
    /// The file line of the issue.
    let line: Int
    let message: String

    init(name: String, plugin: String, path: String, line: Int, _ message: String) {
        self.name = name
        self.plugin = plugin
        self.path = path
        self.line = line
        self.message = message
    }

    var testDescription: String { name }

    /// Fixture.plugin plus `extra` lines (the first extra line is file line 7).
    static func adding(_ name: String, _ extra: String, path: String, line: Int = 7, _ message: String) -> BadPlugin {
        BadPlugin(name: name, plugin: Fixture.plugin + "\n" + extra, path: path, line: line, message)
    }

    /// A watch of `v1 Pod` and the given endpoint lines (first on file line 5).
    static func endpoint(_ name: String, _ endpoint: String, path: String, line: Int = 5, _ message: String) -> BadPlugin {
        BadPlugin(name: name, plugin: "name: web\n" + endpoint + "\nwatch: {apiVersion: v1, kind: Pod}", path: path, line: line, message)
    }

    /// The fixture's endpoint and the given watch (first line on file line 6).
    static func watch(_ name: String, _ watch: String, path: String, line: Int = 6, _ message: String) -> BadPlugin {
        BadPlugin(name: name, plugin: "name: web\nendpoint: {url: \"http://127.0.0.1/\"}\n" + watch, path: path, line: line, message)
    }
}

@Suite struct ConfigErrorTests {
    static let badPlugins: [BadPlugin] = [
        // Unknown fields.
        .adding("misspelt field", "wokers: 2", path: "plugins[0].wokers", #"unknown field "wokers"; did you mean "workers"?"#),
        .adding("misspelt case", "FieldManager: x", path: "plugins[0].FieldManager", #"did you mean "fieldManager"?"#),
        .adding("unknown field far from any", "colour: red", path: "plugins[0].colour", #"unknown field "colour""#),
        .adding("nested misspelt field", "rateLimits: {dispatch: {qsp: 5}}", path: "plugins[0].rateLimits.dispatch.qsp",
                #"unknown field "qsp"; did you mean "qps"?"#),
        .adding("url outside endpoint", "url: http://127.0.0.1/", path: "plugins[0].url", "a URL goes under endpoint"),
        .adding("literal token", "auth: {token: s3cret, tokenEnv: T}", path: "plugins[0].auth.token",
                "a literal token is not allowed in the config file"),
        .adding("merge key", "filters: {<<: {a: 1}}", path: "plugins[0].filters", #"YAML merge keys ("<<") are not supported"#),

        // Types and required fields.
        .adding("mapping expected", "filters: [skipStatusOnlyChanges]", path: "plugins[0].filters", "must be a mapping, got a list"),
        .adding("list expected", "owns: {apiVersion: v1, kind: Pod}", path: "plugins[0].owns", "must be a list, got a mapping"),
        BadPlugin(name: "number where a string goes", plugin: "name: 123\n" + Fixture.plugin.split(separator: "\n").dropFirst().joined(separator: "\n"),
                  path: "plugins[0].name", line: 4, "must be a string, got 123 (quote it to use it as text)"),
        BadPlugin(name: "missing watch", plugin: "name: web\nendpoint: {url: \"http://127.0.0.1/\"}", path: "plugins[0].watch", line: 4,
                  "required field is missing"),
        BadPlugin(name: "missing name", plugin: "endpoint: {url: \"http://127.0.0.1/\"}\nwatch: {apiVersion: v1, kind: Pod}",
                  path: "plugins[0].name", line: 4, "required field is missing"),
        .watch("missing apiVersion", "watch: {kind: Pod}", path: "plugins[0].watch.apiVersion", "required field is missing"),
        .adding("null is not a mapping", "auth:", path: "plugins[0].auth", "must be a mapping, got null"),
        .adding("null is not a list", "owns: ~", path: "plugins[0].owns", "must be a list, got null"),
        BadPlugin(name: "null is not a string", plugin: "name: null\n" + Fixture.plugin.split(separator: "\n").dropFirst().joined(separator: "\n"),
                  path: "plugins[0].name", line: 4, "must be a string, got null"),
        .adding("yes is not a boolean", "filters: {generationChangedOnly: yes}", path: "plugins[0].filters.generationChangedOnly",
                "must be true or false, got yes"),
        .adding("quoted boolean", #"filters: {skipStatusOnlyChanges: "false"}"#, path: "plugins[0].filters.skipStatusOnlyChanges",
                #"must be true or false, got "false""#),

        // Endpoint or command.
        .adding("both endpoint and command", "command: {path: plugin}", path: "plugins[0]", "set exactly one of endpoint or command, not both"),
        BadPlugin(name: "neither endpoint nor command", plugin: "name: web\nwatch: {apiVersion: v1, kind: Pod}", path: "plugins[0]", line: 4,
                  "one of endpoint (a running server) or command (a process the host starts) is required"),
        .endpoint("remote URL without allowRemote", "endpoint: {url: \"https://plugins.example.com/r\"}", path: "plugins[0].endpoint.url",
                  #"host "plugins.example.com" is not loopback"#),
        .endpoint("private address is not loopback", "endpoint: {url: \"http://10.0.0.1/r\"}", path: "plugins[0].endpoint.url",
                  #"host "10.0.0.1" is not loopback"#),
        .endpoint("allowRemote over http", "endpoint: {url: \"http://plugins.example.com/r\", allowRemote: true}",
                  path: "plugins[0].endpoint.allowRemote", "allowRemote needs an https URL"),
        .endpoint("non-http scheme", "endpoint: {url: \"ftp://127.0.0.1/r\"}", path: "plugins[0].endpoint.url",
                  #"must be an http:// or https:// URL, got "ftp://127.0.0.1/r""#),
        .endpoint("not a URL", "endpoint: {url: \"http://\"}", path: "plugins[0].endpoint.url", "must be a URL such as"),
        .endpoint("credentials in URL", "endpoint: {url: \"http://user:pw@127.0.0.1/r\"}", path: "plugins[0].endpoint.url",
                  "must not hold credentials"),
        .endpoint("caFile over http", "endpoint: {url: \"http://127.0.0.1/r\", caFile: ca.pem}", path: "plugins[0].endpoint.caFile",
                  "caFile applies only to https URLs"),
        .endpoint("skip verify over http", "endpoint: {url: \"http://127.0.0.1/r\", insecureSkipTLSVerify: true}",
                  path: "plugins[0].endpoint.insecureSkipTLSVerify", "applies only to https URLs"),
        .endpoint("skip verify with caFile", "endpoint: {url: \"https://127.0.0.1/r\", caFile: ca.pem, insecureSkipTLSVerify: true}",
                  path: "plugins[0].endpoint.insecureSkipTLSVerify", "cannot be combined with caFile"),
        .endpoint("command without path", "command: {args: [x]}", path: "plugins[0].command.path", "required field is missing"),
        .endpoint("env sets the port variable", "command: {path: p, env: {PLUGBOARD_PORT: \"1\"}}", path: "plugins[0].command.env.PLUGBOARD_PORT",
                  "the host sets PLUGBOARD_PORT itself"),
        .endpoint("env value not a string", "command: {path: p, env: {DEBUG: 1}}", path: "plugins[0].command.env.DEBUG",
                  "must be a string, got 1"),
        .endpoint("bad env name", "command: {path: p, env: {1BAD: x}}", path: "plugins[0].command.env.1BAD",
                  "must be an environment variable name"),
        .endpoint("relative reconcile path", "command: {path: p, reconcilePath: reconcile}", path: "plugins[0].command.reconcilePath",
                  #"must be an absolute URL path such as "/reconcile""#),
        .endpoint("restart backoff reversed", "command: {path: p, restartBackoff: {base: 2m}}", path: "plugins[0].command.restartBackoff.base",
                  "base (2m0s) must not exceed max (1m0s)"),

        // Resources and selectors.
        .watch("kind and resource", "watch: {apiVersion: v1, kind: Pod, resource: pods}", path: "plugins[0].watch",
               "set exactly one of kind or resource, not both"),
        .watch("neither kind nor resource", "watch: {apiVersion: v1}", path: "plugins[0].watch", "one of kind (such as Deployment) or resource"),
        .watch("group without version", "watch: {apiVersion: apps, kind: Deployment}", path: "plugins[0].watch.apiVersion",
               #"must be "v1" for the core group or "GROUP/VERSION" such as "apps/v1", got "apps""#),
        .watch("lowercase kind", "watch: {apiVersion: apps/v1, kind: deployment}", path: "plugins[0].watch.kind",
               #"must be a kind: an UpperCamel name"#),
        .watch("capitalized resource", "watch: {apiVersion: apps/v1, resource: Deployments}", path: "plugins[0].watch.resource",
               #"must be a resource: a lowercase plural"#),
        .watch("bad label selector", "watch: {apiVersion: v1, kind: Pod, labelSelector: \"app in (a,b\"}", path: "plugins[0].watch.labelSelector",
               "invalid label selector: " + ConfigErrorTests.labelSelectorMessage("app in (a,b")),
        .watch("bad field selector", "watch: {apiVersion: v1, kind: Pod, fieldSelector: \"name\"}", path: "plugins[0].watch.fieldSelector",
               "invalid field selector: " + ConfigErrorTests.fieldSelectorMessage("name")),
        .watch("bad namespace", "watch: {apiVersion: v1, kind: Pod, namespaces: [Default]}", path: "plugins[0].watch.namespaces[0]",
               "must be a DNS-1123 label"),
        .watch("repeated namespace", "watch: {apiVersion: v1, kind: Pod, namespaces: [a, b, a]}", path: "plugins[0].watch.namespaces[2]",
               #"duplicate namespace "a""#),
        .adding("namespace scope word", "related: [{apiVersion: v1, kind: ConfigMap, namespaces: other}]", path: "plugins[0].related[0].namespaces",
                #"must be "same", "all" or a list of namespaces, got "other""#),
        .adding("empty namespace list", "permissions: [{apiVersion: v1, kind: ConfigMap, namespaces: []}]",
                path: "plugins[0].permissions[0].namespaces", #"must not be empty; use "same" or "all""#),
        .adding("related name", "related: [{apiVersion: v1, kind: ConfigMap, name: Bad_Name}]", path: "plugins[0].related[0].name",
                "must be a DNS-1123 subdomain"),
        .adding("unknown verb", "permissions: [{apiVersion: v1, kind: ConfigMap, verbs: [get]}]", path: "plugins[0].permissions[0].verbs[0]",
                #"must be one of apply, create, update, patch, delete, status, got "get""#),
        .adding("no verbs", "permissions: [{apiVersion: v1, kind: ConfigMap, verbs: []}]", path: "plugins[0].permissions[0].verbs",
                "must name at least one verb"),
        .adding("repeated verb", "permissions: [{apiVersion: v1, kind: ConfigMap, verbs: [apply, delete, apply]}]",
                path: "plugins[0].permissions[0].verbs[2]", #"duplicate verb "apply""#),
        .adding("owned without apiVersion", "owns: [{kind: Deployment}]", path: "plugins[0].owns[0].apiVersion", "required field is missing"),

        // Numbers and durations.
        .adding("qps not a number", "rateLimits: {dispatch: {qps: fast}}", path: "plugins[0].rateLimits.dispatch.qps",
                #"must be a number greater than 0, got "fast""#),
        .adding("qps zero", "rateLimits: {writes: {qps: 0}}", path: "plugins[0].rateLimits.writes.qps", "must be a number greater than 0, got 0"),
        .adding("qps infinite", "rateLimits: {writes: {qps: .inf}}", path: "plugins[0].rateLimits.writes.qps", "must be a number greater than 0, got .inf"),
        .adding("quoted number", #"rateLimits: {writes: {qps: "5"}}"#, path: "plugins[0].rateLimits.writes.qps", #"got "5""#),
        .adding("burst zero", "rateLimits: {dispatch: {burst: 0}}", path: "plugins[0].rateLimits.dispatch.burst", "must be an integer of at least 1, got 0"),
        .adding("burst fractional", "rateLimits: {dispatch: {burst: 1.5}}", path: "plugins[0].rateLimits.dispatch.burst", "got 1.5"),
        .adding("workers zero", "workers: 0", path: "plugins[0].workers", "must be an integer from 1 to 256, got 0"),
        .adding("workers too many", "workers: 257", path: "plugins[0].workers", "must be an integer from 1 to 256, got 257"),
        .adding("backoff reversed", "rateLimits: {backoff: {base: 2s, max: 1s}}", path: "plugins[0].rateLimits.backoff.base",
                "base (2s) must not exceed max (1s)"),
        .adding("duration without unit", "timeout: 10", path: "plugins[0].timeout", #"must be a duration string such as "10s" or "1m30s", got 10"#),
        .adding("duration garbage", "timeout: soon", path: "plugins[0].timeout", #"must be a duration such as "500ms", "10s" or "1m30s", got "soon""#),
        .adding("duration unknown unit", "resyncPeriod: 1d", path: "plugins[0].resyncPeriod", #"has an unknown unit "d""#),
        .adding("duration negative", "resyncPeriod: -1m", path: "plugins[0].resyncPeriod", #"must not be negative, got "-1m""#),
        .adding("zero timeout", "timeout: 0s", path: "plugins[0].timeout", #"must be greater than 0, got "0s""#),

        // Credentials and names.
        .adding("both token sources", "auth: {tokenFile: t, tokenEnv: T}", path: "plugins[0].auth", "set exactly one of tokenFile or tokenEnv, not both"),
        .adding("no token source", "auth: {header: X-Token}", path: "plugins[0].auth", "one of tokenFile or tokenEnv is required"),
        .adding("bad header", "auth: {tokenEnv: T, header: \"X Token\"}", path: "plugins[0].auth.header", "must be an HTTP header name"),
        .adding("bad scheme", "auth: {tokenEnv: T, scheme: \"Bearer x\"}", path: "plugins[0].auth.scheme", "must be a single word"),
        .adding("empty field manager", "fieldManager: \"\"", path: "plugins[0].fieldManager", "must be 1 to 128 printable characters"),
        BadPlugin(name: "bad plugin name", plugin: "name: Web_App\n" + Fixture.plugin.split(separator: "\n").dropFirst().joined(separator: "\n"),
                  path: "plugins[0].name", line: 4, #"must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit, got "Web_App""#),
    ]

    static func labelSelectorMessage(_ text: String) -> String {
        do { _ = try LabelSelector(parsing: text); return "(parses)" } catch { return error.message }
    }

    static func fieldSelectorMessage(_ text: String) -> String {
        do { _ = try FieldSelector(parsing: text); return "(parses)" } catch { return error.message }
    }

    @Test(arguments: badPlugins)
    func aBadPluginIsExactlyOneIssue(_ bad: BadPlugin) throws {
        let issues = Fixture.issues(Fixture.document(plugins: bad.plugin))
        try #require(issues.count == 1, "\(issues)")
        let issue = issues[0]
        #expect(issue.file == "test.yaml")
        #expect(issue.path == bad.path)
        #expect(issue.line == bad.line)
        #expect(issue.column != nil)
        #expect(issue.message.contains(bad.message), "\(issue.message)")
    }

    @Test func theIssueFormatNamesFileLineColumnAndPath() throws {
        let issues = Fixture.issues(Fixture.document(plugins: Fixture.plugin + "\nrateLimits:\n  dispatch:\n    qps: fast"))
        #expect(issues.map(\.description) == [
            #"test.yaml:9:14: plugins[0].rateLimits.dispatch.qps: must be a number greater than 0, got "fast""#,
        ])
    }

    @Test func everyProblemInTheFileIsReportedInFileOrder() {
        let yaml = """
            apiVersion: plugboard.dev/v1
            kind: PlugboardConfig
            clinet: {qps: 5}
            plugins:
              - name: web
                endpoint: {url: "http://example.com/r"}
                watch: {apiVersion: apps, kind: Deployment}
                workers: 0
              - name: web
                command: {path: p}
                watch: {apiVersion: v1, kind: Pod}
                timeout: fast
                rateLimits: {dispatch: {qps: -1, burst: 0}}
            """
        let issues = Fixture.issues(yaml)
        #expect(issues.map { "\($0.line ?? 0):\($0.column ?? 0) \($0.path)" } == [
            "1:13 apiVersion",
            "3:1 clinet",
            "6:21 plugins[0].endpoint.url",
            "7:25 plugins[0].watch.apiVersion",
            "8:14 plugins[0].workers",
            "9:11 plugins[1].name",
            "12:14 plugins[1].timeout",
            "13:34 plugins[1].rateLimits.dispatch.qps",
            "13:45 plugins[1].rateLimits.dispatch.burst",
        ])
        #expect(issues[1].message == #"unknown field "clinet"; did you mean "client"?"#)
        #expect(issues[5].message == #"duplicate plugin name "web"; plugins[0] already has it"#)
        let error = ConfigError(issues: issues)
        #expect(error.description.split(separator: "\n").count == issues.count)
        #expect(error.description.hasPrefix("test.yaml:1:13: apiVersion: unsupported apiVersion"))
    }

    @Test func fieldManagersMustDifferAcrossPlugins() {
        let issues = Fixture.issues(Fixture.document(
            plugins: Fixture.plugin + "\nfieldManager: shared",
            "name: other\nendpoint: {url: \"http://127.0.0.1/\"}\nwatch: {apiVersion: v1, kind: Pod}\nfieldManager: shared"))
        #expect(issues.map(\.description) == [
            #"test.yaml:11:19: plugins[1].fieldManager: fieldManager "shared" is already used by plugins[0]; each plugin needs its own"#,
        ])
    }

    // MARK: The document

    @Test func leaderElectionTimingsMustNest() {
        let issues = Fixture.issues("""
            apiVersion: plugboard.dev/v1alpha1
            kind: PlugboardConfig
            leaderElection: {enabled: true, namespace: Plugboard, leaseDuration: 10s, renewDeadline: 10s, retryPeriod: 20s, holder: me}
            """)
        #expect(issues.map(\.description) == [
            #"test.yaml:3:44: leaderElection.namespace: must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit, got "Plugboard""#,
            #"test.yaml:3:90: leaderElection.renewDeadline: renewDeadline (10s) must be shorter than leaseDuration (10s)"#,
            #"test.yaml:3:108: leaderElection.retryPeriod: retryPeriod (20s) must be shorter than renewDeadline (10s)"#,
            #"test.yaml:3:113: leaderElection.holder: unknown field "holder""#,
        ])
    }

    /// A timing written wrong gets its own error only: nothing is compared with a default in its place.
    @Test func aBadLeaderElectionTimingIsNotComparedWithTheDefault() {
        let issues = Fixture.issues("""
            apiVersion: plugboard.dev/v1alpha1
            kind: PlugboardConfig
            leaderElection: {enabled: true, leaseDuration: -5s, renewDeadline: 20s, retryPeriod: soon}
            """)
        #expect(issues.count == 2, "\(issues.map(\.description))")
        #expect(issues.first?.description.hasPrefix("test.yaml:3:48: leaderElection.leaseDuration: ") == true, "\(issues.map(\.description))")
        #expect(issues.last?.description.hasPrefix("test.yaml:3:86: leaderElection.retryPeriod: ") == true, "\(issues.map(\.description))")
        #expect(!issues.contains { $0.description.contains("must be shorter than") })
    }

    @Test func leaderElectionIsOffByDefaultWithClientGoTimings() throws {
        let off = try Fixture.parse("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\n")
        #expect(off.leaderElection == LeaderElectionSettings())
        #expect(!off.leaderElection.enabled && off.leaderElection.leaseDuration == .seconds(15) && off.leaderElection.renewDeadline == .seconds(10)
            && off.leaderElection.retryPeriod == .seconds(2) && off.leaderElection.name == "plugboard" && off.leaderElection.namespace == nil)
        let on = try Fixture.parse("""
            apiVersion: plugboard.dev/v1alpha1
            kind: PlugboardConfig
            leaderElection: {enabled: true, namespace: ops, name: web.plugboard, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 500ms}
            """)
        #expect(on.leaderElection == LeaderElectionSettings(enabled: true, namespace: "ops", name: "web.plugboard", leaseDuration: .seconds(4),
                                                             renewDeadline: .seconds(3), retryPeriod: .milliseconds(500)))
    }

    @Test func wrongApiVersionAndKindAreReported() {
        let issues = Fixture.issues("apiVersion: v1\nkind: ConfigMap\n")
        #expect(issues.map(\.description) == [
            #"test.yaml:1:13: apiVersion: unsupported apiVersion "v1"; this version of Plugboard reads "plugboard.dev/v1alpha1""#,
            #"test.yaml:2:7: kind: must be "PlugboardConfig", got "ConfigMap""#,
        ])
    }

    @Test func apiVersionAndKindAreRequired() {
        let issues = Fixture.issues("plugins: []\n")
        #expect(issues.map(\.path) == ["apiVersion", "kind"])
        #expect(issues.allSatisfy { $0.message == "required field is missing" && $0.line == 1 })
    }

    @Test func misspeltTopLevelFieldSuggestsTheRightOne() {
        let issues = Fixture.issues(Fixture.header.replacingOccurrences(of: "plugins:", with: "plugin: []"))
        #expect(issues.map(\.description) == [#"test.yaml:3:1: plugin: unknown field "plugin"; did you mean "plugins"?"#])
    }

    @Test func clientLimitsAreChecked() {
        let issues = Fixture.issues(Fixture.header + "  []\nclient: {qps: 0, burst: many}\n")
        #expect(issues.map(\.path) == ["client.qps", "client.burst"])
    }

    @Test(arguments: ["", "# only a comment\n", "---\n", "\n\n"])
    func anEmptyFileIsAnError(yaml: String) {
        #expect(Fixture.issues(yaml).map(\.description) == [
            "test.yaml:1:1: the file is empty; expected a PlugboardConfig document with apiVersion plugboard.dev/v1alpha1",
        ])
    }

    @Test func aDocumentThatIsNotAMappingIsAnError() {
        let issues = Fixture.issues("- a\n- b\n")
        #expect(issues.count == 1)
        #expect(issues.first?.message == "the document must be a mapping with apiVersion, kind and plugins, got a list")
    }

    @Test func yamlSyntaxErrorsCarryFileAndLine() throws {
        let issues = Fixture.issues("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\nplugins: [a, b\n")
        let issue = try #require(issues.first)
        #expect(issues.count == 1)
        #expect(issue.file == "test.yaml")
        #expect(issue.line == 4)
        #expect(issue.path == "")
        #expect(issue.message.hasPrefix("YAML syntax error: did not find expected ',' or ']'"))
        #expect(issue.description.hasPrefix("test.yaml:4:1: YAML syntax error"))
    }

    @Test func severalDocumentsInOneFileAreASyntaxError() {
        let issues = Fixture.issues("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\n---\na: 1\n")
        #expect(issues.map(\.line) == [3])
        #expect(issues.first?.message.contains("expected a single document") == true)
    }

    @Test func anUndefinedAliasIsASyntaxError() {
        let issues = Fixture.issues(Fixture.header + "  *missing\n")
        #expect(issues.map(\.message) == ["YAML syntax error: found undefined alias"])
    }

    @Test func badIndentationIsASyntaxError() throws {
        let issues = Fixture.issues("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\n  plugins: []\n")
        #expect(issues.count == 1)
        #expect(issues.first?.line == 3)
        #expect(issues.first?.message.hasPrefix("YAML syntax error:") == true)
    }

    @Test func aRepeatedKeyIsReportedWhereItIsRepeated() {
        let yaml = Fixture.document(plugins: Fixture.plugin + "\nworkers: 2\nname: again")
        #expect(Fixture.issues(yaml).map(\.description) == [
            #"test.yaml:8:5: duplicate key "name": it is already set at line 4 of the same mapping"#,
        ])
    }

    @Test func aRepeatedKeyInAFlowMappingPointsAtTheFirst() {
        let yaml = Fixture.header + "  - {name: a, name: b}\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.line == 4)
        #expect(issues.first?.message.hasPrefix(#"duplicate key "name""#) == true)
    }

    @Test func aRepeatedTopLevelKeyIsAnError() {
        let issues = Fixture.issues(Fixture.header + "  []\nkind: PlugboardConfig\n")
        #expect(issues.map(\.description) == [#"test.yaml:5:1: duplicate key "kind": it is already set at line 2 of the same mapping"#])
    }

    @Test func theIssueDescriptionLeavesOutWhatIsUnknown() {
        #expect(ConfigIssue(file: "f", line: nil, column: nil, path: "", message: "m").description == "f: m")
        #expect(ConfigIssue(file: "f", line: 2, column: 3, path: "", message: "m").description == "f:2:3: m")
        #expect(ConfigIssue(file: "f", line: 2, column: 3, path: "a.b", message: "m").description == "f:2:3: a.b: m")
    }

    @Test func suggestionsAreWithinTwoEdits() {
        #expect(Suggestion.closest(to: "wokers", in: ConfigKeys.plugin) == "workers")
        #expect(Suggestion.closest(to: "timout", in: ConfigKeys.plugin) == "timeout")
        #expect(Suggestion.closest(to: "labelselector", in: ConfigKeys.watch) == "labelSelector")
        #expect(Suggestion.closest(to: "xyz", in: ConfigKeys.plugin) == nil)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("", "abc") == 3)
    }

    @Test func valuesAreQuotedAndShortenedInMessages() {
        #expect(ConfigReader.quote("a\"b\\c\nd") == #""a\"b\\c\nd""#)
        #expect(ConfigReader.quote(String(repeating: "x", count: 100)) == "\"" + String(repeating: "x", count: 80) + "…\"")
    }
}
