import Foundation
import KubeCore
import Testing
@testable import PluginConfig

/// Valid documents become the model, with every default filled in.
@Suite struct ConfigLoadingTests {
    static let fullExample = """
        apiVersion: plugboard.dev/v1alpha1
        kind: PlugboardConfig
        client:
          qps: 75.5
          burst: 150
        plugins:
          - name: webapp
            command:
              path: python3
              args: [plugins/python/webapp/plugin.py, --verbose]
              env: {LOG_LEVEL: debug, MODE: "1"}
              workingDirectory: ../plugins
              portEnv: WEBAPP_PORT
              reconcilePath: /v1/reconcile
              healthPath: /ready
              startTimeout: 45s
              restartBackoff: {base: 500ms, max: 2m}
            watch:
              apiVersion: example.com/v1
              kind: WebApp
              namespaces: [default, staging]
              labelSelector: "app in (a,b)"
              fieldSelector: "metadata.name!=x"
            owns:
              - apiVersion: apps/v1
                kind: Deployment
              - apiVersion: v1
                resource: services
            related:
              - apiVersion: v1
                kind: ConfigMap
                labelSelector: "role=settings"
                name: webapp-defaults
              - apiVersion: v1
                kind: Secret
                namespaces: all
              - apiVersion: v1
                kind: Namespace
                namespaces: [kube-system]
            permissions:
              - apiVersion: apps/v1
                kind: Deployment
                verbs: [apply, delete]
              - apiVersion: example.com/v1
                kind: WebApp
                namespaces: all
                verbs: [status]
              - apiVersion: v1
                resource: services
            workers: 4
            timeout: 1m30s
            rateLimits:
              dispatch: {qps: 20, burst: 40}
              writes: {qps: 10.5}
              backoff: {base: 10ms, max: 5m}
            resyncPeriod: 10m
            filters:
              skipStatusOnlyChanges: false
              generationChangedOnly: true
            auth:
              header: X-Plugin-Token
              tokenFile: secrets/webapp.token
            fieldManager: webapp-controller
          - name: remote
            endpoint:
              url: https://plugins.example.com:8443/reconcile
              allowRemote: true
              caFile: /etc/ssl/plugins-ca.pem
            watch:
              apiVersion: batch/v1
              resource: jobs
            auth:
              tokenEnv: REMOTE_TOKEN
        """

    @Test func fullExampleBecomesTheExpectedModel() throws {
        let config = try Fixture.parse(Self.fullExample)
        let webappWatch = WatchSpec(
            resource: ResourceRef(apiVersion: "example.com/v1", kind: "WebApp"),
            namespaces: ["default", "staging"],
            labelSelector: try LabelSelector(parsing: "app in (a,b)"),
            fieldSelector: try FieldSelector(parsing: "metadata.name!=x")
        )
        let webapp = PluginSpec(
            name: "webapp",
            endpoint: .command(PluginCommand(
                path: ResolvedPath(written: "python3", resolved: "python3"),
                args: ["plugins/python/webapp/plugin.py", "--verbose"],
                env: ["LOG_LEVEL": "debug", "MODE": "1"],
                workingDirectory: ResolvedPath(written: "../plugins", resolved: "/etc/plugins"),
                portEnv: "WEBAPP_PORT",
                reconcilePath: "/v1/reconcile",
                healthPath: "/ready",
                startTimeout: .seconds(45),
                restartBackoff: Backoff(base: .milliseconds(500), max: .seconds(120))
            )),
            watch: webappWatch,
            owns: [ResourceRef(apiVersion: "apps/v1", kind: "Deployment"), ResourceRef(apiVersion: "v1", resource: "services")],
            related: [
                RelatedResource(resource: ResourceRef(apiVersion: "v1", kind: "ConfigMap"), namespaces: .same,
                                labelSelector: try LabelSelector(parsing: "role=settings"), name: "webapp-defaults"),
                RelatedResource(resource: ResourceRef(apiVersion: "v1", kind: "Secret"), namespaces: .all),
                RelatedResource(resource: ResourceRef(apiVersion: "v1", kind: "Namespace"), namespaces: .list(["kube-system"])),
            ],
            permissions: [
                Permission(resource: ResourceRef(apiVersion: "apps/v1", kind: "Deployment"), namespaces: .same, verbs: [.apply, .delete]),
                Permission(resource: ResourceRef(apiVersion: "example.com/v1", kind: "WebApp"), namespaces: .all, verbs: [.status]),
                Permission(resource: ResourceRef(apiVersion: "v1", resource: "services"), namespaces: .same,
                           verbs: [.apply, .create, .update, .patch, .delete]),
            ],
            workers: 4,
            timeout: .seconds(90),
            rateLimits: RateLimits(
                dispatch: RateLimit(qps: 20, burst: 40),
                writes: RateLimit(qps: 10.5, burst: 100),
                backoff: Backoff(base: .milliseconds(10), max: .seconds(300))
            ),
            resyncPeriod: .seconds(600),
            filters: EventFilters(skipStatusOnlyChanges: false, generationChangedOnly: true),
            auth: PluginAuth(header: "X-Plugin-Token", scheme: nil,
                             token: .file(ResolvedPath(written: "secrets/webapp.token", resolved: "/etc/plugboard/secrets/webapp.token"))),
            fieldManager: "webapp-controller"
        )
        let remote = PluginSpec(
            name: "remote",
            endpoint: .url(URLEndpoint(
                url: URL(string: "https://plugins.example.com:8443/reconcile")!,
                allowRemote: true,
                caFile: ResolvedPath(written: "/etc/ssl/plugins-ca.pem", resolved: "/etc/ssl/plugins-ca.pem")
            )),
            watch: WatchSpec(resource: ResourceRef(apiVersion: "batch/v1", resource: "jobs")),
            auth: PluginAuth(header: "Authorization", scheme: "Bearer", token: .environment("REMOTE_TOKEN"))
        )
        let expected = PlugboardConfig(
            file: "test.yaml", baseDirectory: "/etc/plugboard",
            client: ClientSettings(rateLimit: RateLimit(qps: 75.5, burst: 150)),
            plugins: [webapp, remote]
        )
        #expect(config.plugins.first == webapp)
        #expect(config.plugins.last == remote)
        #expect(config == expected)
    }

    @Test func aMinimalPluginGetsEveryDefault() throws {
        let config = try Fixture.parse(Fixture.document(plugins: Fixture.plugin))
        #expect(config.client.rateLimit == RateLimit(qps: 50, burst: 100))
        let plugin = try #require(config.plugins.first)
        let primary = ResourceRef(apiVersion: "example.com/v1", kind: "WebApp")
        #expect(plugin.name == "web")
        #expect(plugin.endpoint == .url(URLEndpoint(url: URL(string: "http://127.0.0.1:8080/reconcile")!)))
        #expect(plugin.watch == WatchSpec(resource: primary))
        #expect(plugin.watch.namespaces.isEmpty)
        #expect(plugin.watch.labelSelector.isEmpty && plugin.watch.fieldSelector.isEmpty)
        #expect(plugin.owns.isEmpty && plugin.related.isEmpty)
        #expect(plugin.permissions == [Permission(resource: primary, namespaces: .same, verbs: [.status])])
        #expect(plugin.workers == 1)
        #expect(plugin.timeout == .seconds(10))
        #expect(plugin.rateLimits.dispatch == RateLimit(qps: 100, burst: 200))
        #expect(plugin.rateLimits.writes == RateLimit(qps: 50, burst: 100))
        #expect(plugin.rateLimits.backoff == Backoff(base: .milliseconds(5), max: .seconds(1000)))
        #expect(plugin.resyncPeriod == nil)
        #expect(plugin.filters == EventFilters(skipStatusOnlyChanges: true, generationChangedOnly: false))
        #expect(plugin.auth == nil)
        #expect(plugin.fieldManager == "plugboard-web")
        if case .url(let endpoint) = plugin.endpoint {
            #expect(!endpoint.allowRemote && endpoint.caFile == nil && !endpoint.insecureSkipTLSVerify)
        }
    }

    @Test func aCommandGetsItsDefaultsAndRunsInTheConfigDirectory() throws {
        let config = try Fixture.parse(Fixture.document(plugins: """
            name: web
            command: {path: ./bin/plugin}
            watch: {apiVersion: v1, kind: ConfigMap}
            """))
        guard case .command(let command) = try #require(config.plugins.first).endpoint else {
            Issue.record("expected a command endpoint")
            return
        }
        #expect(command == PluginCommand(
            path: ResolvedPath(written: "./bin/plugin", resolved: "/etc/plugboard/bin/plugin"),
            workingDirectory: ResolvedPath(written: ".", resolved: "/etc/plugboard")
        ))
        #expect(command.portEnv == "PLUGBOARD_PORT")
        #expect(command.reconcilePath == "/reconcile" && command.healthPath == "/healthz")
        #expect(command.startTimeout == .seconds(30))
        #expect(command.restartBackoff == Backoff(base: .seconds(1), max: .seconds(60)))
        #expect(command.args.isEmpty && command.env.isEmpty)
    }

    @Test func ownedKindsAreWritableByDefaultButAnEmptyListAllowsNothing() throws {
        let owning = try Fixture.parse(Fixture.document(plugins: Fixture.plugin + "\nowns: [{apiVersion: apps/v1, kind: Deployment}]"))
        let primary = ResourceRef(apiVersion: "example.com/v1", kind: "WebApp")
        let deployment = ResourceRef(apiVersion: "apps/v1", kind: "Deployment")
        #expect(owning.plugins[0].permissions == [
            Permission(resource: primary, namespaces: .same, verbs: [.status]),
            Permission(resource: deployment, namespaces: .same, verbs: [.apply, .create, .update, .patch, .delete]),
        ])
        let locked = try Fixture.parse(Fixture.document(plugins: Fixture.plugin + "\nowns: [{apiVersion: apps/v1, kind: Deployment}]\npermissions: []"))
        #expect(locked.plugins[0].permissions.isEmpty)
    }

    @Test func zeroResyncIsOff() throws {
        for zero in ["0", "0s", "\"0\"", "0h0m"] {
            let config = try Fixture.parse(Fixture.document(plugins: Fixture.plugin + "\nresyncPeriod: \(zero)"))
            #expect(config.plugins[0].resyncPeriod == nil)
        }
    }

    @Test func authorizationHeaderDefaultsToBearerAndAnEmptySchemeSendsTheTokenAlone() throws {
        let bearer = try Fixture.parse(Fixture.document(plugins: Fixture.plugin + "\nauth: {tokenEnv: TOKEN}"))
        #expect(bearer.plugins[0].auth == PluginAuth(header: "Authorization", scheme: "Bearer", token: .environment("TOKEN")))
        let raw = try Fixture.parse(Fixture.document(plugins: Fixture.plugin + "\nauth: {tokenEnv: TOKEN, scheme: \"\"}"))
        #expect(raw.plugins[0].auth?.scheme == nil)
        let custom = try Fixture.parse(Fixture.document(plugins: Fixture.plugin + "\nauth: {tokenEnv: TOKEN, header: X-Token, scheme: Token}"))
        #expect(custom.plugins[0].auth == PluginAuth(header: "X-Token", scheme: "Token", token: .environment("TOKEN")))
    }

    @Test(arguments: [
        "http://127.0.0.1:8080/reconcile", "http://127.1.2.3/", "http://localhost:9000/r", "http://[::1]:8080/reconcile",
        "https://127.0.0.1:8443/r",
    ])
    func loopbackURLsNeedNoAllowRemote(url: String) throws {
        let plugin = "name: web\nendpoint: {url: \"\(url)\"}\nwatch: {apiVersion: v1, kind: Pod}"
        let config = try Fixture.parse(Fixture.document(plugins: plugin))
        #expect(config.plugins[0].endpoint == .url(URLEndpoint(url: URL(string: url)!)))
    }

    @Test func insecureSkipTLSVerifyIsAcceptedWhenExplicitlyTrueOnHTTPS() throws {
        let plugin = "name: web\nendpoint: {url: \"https://localhost:8443/r\", insecureSkipTLSVerify: true}\nwatch: {apiVersion: v1, kind: Pod}"
        let config = try Fixture.parse(Fixture.document(plugins: plugin))
        #expect(config.plugins[0].endpoint == .url(URLEndpoint(url: URL(string: "https://localhost:8443/r")!, insecureSkipTLSVerify: true)))
    }

    @Test func aliasesShareAValue() throws {
        let config = try Fixture.parse(Fixture.document(
            plugins: "name: a\nendpoint: {url: \"http://127.0.0.1/\"}\nwatch: &pods {apiVersion: v1, kind: Pod}",
            "name: b\nendpoint: {url: \"http://127.0.0.1/\"}\nwatch: *pods"))
        #expect(config.plugins.map(\.watch.resource) == [ResourceRef(apiVersion: "v1", kind: "Pod"), ResourceRef(apiVersion: "v1", kind: "Pod")])
    }

    @Test func aDocumentWithoutPluginsIsValid() throws {
        let config = try Fixture.parse("apiVersion: plugboard.dev/v1alpha1\nkind: PlugboardConfig\n")
        #expect(config.plugins.isEmpty)
    }

    @Test func loadReadsAFileAndResolvesAgainstItsDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plugboard.yaml")
        try Fixture.document(plugins: Fixture.plugin + "\nauth: {tokenFile: token}").write(to: file, atomically: true, encoding: .utf8)

        let config = try PlugboardConfig.load(path: file.path)
        let base = PathResolver.normalize(directory.path)
        #expect(config.file == file.path)
        #expect(config.baseDirectory == base)
        #expect(config.plugins[0].auth?.token == .file(ResolvedPath(written: "token", resolved: base + "/token")))
    }

    @Test func aMissingFileIsOneIssueWithoutAPosition() {
        #expect(throws: ConfigError(issues: [ConfigIssue(file: "/nonexistent/plugboard.yaml", line: nil, column: nil, path: "", message: "no such file")])) {
            try PlugboardConfig.load(path: "/nonexistent/plugboard.yaml")
        }
    }

    @Test func aDirectoryIsNotAConfigFile() throws {
        let directory = FileManager.default.temporaryDirectory.path
        #expect(throws: ConfigError(issues: [ConfigIssue(file: directory, line: nil, column: nil, path: "", message: "is a directory, not a config file")])) {
            try PlugboardConfig.load(path: directory)
        }
    }

    @Test func pathsResolveLexically() {
        let resolver = PathResolver(baseDirectory: "/etc/plugboard/")
        #expect(resolver.resolve("a/./b/../c").resolved == "/etc/plugboard/a/c")
        #expect(resolver.resolve("../../../x").resolved == "/x")
        #expect(resolver.resolve("/abs//path/").resolved == "/abs/path")
        #expect(resolver.resolveProgram("node").resolved == "node")
        #expect(resolver.resolveProgram("bin/node").resolved == "/etc/plugboard/bin/node")
        #expect(PathResolver.directory(ofFile: "/plugboard.yaml") == "/")
    }
}
