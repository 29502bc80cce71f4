import Foundation
import KubeCore
import Synchronization
import Testing

@testable import KubeClient

// MARK: - Fixtures

/// A fresh temporary directory per test, removed when the fixture is released.
final class TempDir {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("kubeclient-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func url(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let file = url(name)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        return file
    }

    func read(_ name: String) -> String? { try? String(contentsOfFile: url(name), encoding: .utf8) }
}

private func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

private let caPEM = "-----BEGIN CERTIFICATE-----\nQ0EK\n-----END CERTIFICATE-----\n"
private let certPEM = "-----BEGIN CERTIFICATE-----\nQ0VSVAo=\n-----END CERTIFICATE-----\n"
private let keyPEM = "-----BEGIN PRIVATE KEY-----\nS0VZCg==\n-----END PRIVATE KEY-----\n"

private func env(_ vars: [String: String] = [:], home: String = "/nonexistent-home", sa: String = "/nonexistent-sa") -> ConfigEnvironment {
    var all = ["PATH": "/usr/bin:/bin"]
    all.merge(vars) { _, new in new }
    return ConfigEnvironment(variables: all, homeDirectory: home, serviceAccountDirectory: sa)
}

private func expectError(_ expected: KubeconfigError, _ message: String, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(expected), got success", sourceLocation: sourceLocation)
    } catch {
        guard let error = error as? KubeconfigError else {
            Issue.record("expected KubeconfigError, got \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(error == expected, sourceLocation: sourceLocation)
        #expect(error.description == message, sourceLocation: sourceLocation)
    }
}

/// A credential plugin: records each run and the KUBERNETES_EXEC_INFO it saw,
/// prints a token numbered by run, for the apiVersion given as $1.
private let tokenPlugin = """
#!/bin/sh
dir="$(dirname "$0")"
echo run >> "$dir/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/execinfo"
n=$(wc -l < "$dir/runs" | tr -d ' ')
exp=""
if [ -n "$EXPIRES" ]; then exp=",\\"expirationTimestamp\\":\\"$EXPIRES\\""; fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"tok-%s%s"%s}}' "$1" "$n" "$SUFFIX" "$exp"

"""

private func runs(_ dir: TempDir) -> Int {
    (dir.read("runs") ?? "").split(separator: "\n").count
}

// MARK: - Kubeconfig loading and merging

@Suite struct KubeconfigLoadingTests {
    let fileA = """
    apiVersion: v1
    kind: Config
    current-context: ctx-a
    clusters:
    - name: shared
      cluster:
        server: https://a.example:6443
    - name: only-a
      cluster:
        server: https://only-a.example
    users:
    - name: alice
      user:
        token: token-a
    contexts:
    - name: ctx-a
      context:
        cluster: shared
        user: alice
        namespace: team-a
    """

    let fileB = """
    current-context: ctx-b
    clusters:
    - name: shared
      cluster:
        server: https://b.example:6443
    - name: only-b
      cluster:
        server: https://only-b.example
        insecure-skip-tls-verify: true
        tls-server-name: api.internal
        proxy-url: http://proxy.example:3128
    users:
    - name: alice
      user:
        token: token-b
    - name: bob
      user:
        username: bob
        password: secret
    contexts:
    - name: ctx-b
      context:
        cluster: only-b
        user: bob
    """

    @Test func mergesTwoFilesFirstDefinitionWins() throws {
        let dir = try TempDir()
        let a = try dir.write("a.yaml", fileA)
        let b = try dir.write("b.yaml", fileB)
        let merged = try KubeconfigLoader.load(paths: [a, dir.url("missing.yaml"), b])
        #expect(merged.files == [a, b])
        #expect(merged.currentContext == "ctx-a")
        #expect(merged.currentContextOrigin == a)
        #expect(merged.clusters["shared"]?.server == "https://a.example:6443")
        #expect(merged.clusters["shared"]?.location == KubeconfigLocation(file: a, field: "clusters[0].cluster"))
        #expect(Set(merged.clusters.keys) == ["shared", "only-a", "only-b"])
        #expect(merged.users["alice"]?.token == "token-a")
        #expect(merged.users["bob"]?.username == "bob")
        #expect(Set(merged.contexts.keys) == ["ctx-a", "ctx-b"])

        // Through KUBECONFIG, in the other order: b's current-context and entries win.
        let config = try ClientConfigurationLoader.load(environment: env(["KUBECONFIG": "\(b):\(a)"]))
        #expect(config.server.absoluteString == "https://only-b.example")
        #expect(config.namespace == "default")
        #expect(config.insecureSkipTLSVerify)
        #expect(config.tlsServerName == "api.internal")
        #expect(config.proxyURL?.absoluteString == "http://proxy.example:3128")
        guard case .basic(let user, let password) = config.authentication else {
            Issue.record("expected basic auth, got \(config.authentication)"); return
        }
        #expect(user == "bob" && password == "secret")
    }

    @Test func currentContextComesFromFirstFileThatSetsIt() throws {
        let dir = try TempDir()
        let none = try dir.write("none.yaml", "clusters: []\n")
        let b = try dir.write("b.yaml", fileB)
        let merged = try KubeconfigLoader.load(paths: [none, b])
        #expect(merged.currentContext == "ctx-b")
        #expect(merged.currentContextOrigin == b)
    }

    @Test func contextOverride() throws {
        let dir = try TempDir()
        let a = try dir.write("a.yaml", fileA)
        let b = try dir.write("b.yaml", fileB)
        let environment = env(["KUBECONFIG": "\(a):\(b)"])
        let current = try ClientConfigurationLoader.load(environment: environment)
        #expect(current.server.absoluteString == "https://a.example:6443")
        #expect(current.namespace == "team-a")
        guard case .bearerToken(let token) = current.authentication else { Issue.record("expected token"); return }
        #expect(token == "token-a")

        let other = try ClientConfigurationLoader.load(context: "ctx-b", environment: environment)
        #expect(other.server.absoluteString == "https://only-b.example")
        #expect(other.source == "context \"ctx-b\" in \(b)")
    }

    @Test func relativePathsResolveAgainstTheNamingFile() throws {
        let dir = try TempDir()
        try dir.write("conf/certs/ca.pem", caPEM)
        try dir.write("conf/certs/client.crt", certPEM)
        try dir.write("conf/certs/client.key", keyPEM)
        try dir.write("conf/token.txt", "  file-token\n")
        try dir.write("conf/bin/plugin.sh", tokenPlugin, executable: true)
        let kubeconfig = try dir.write("conf/kubeconfig", """
        current-context: c
        clusters:
        - name: k
          cluster:
            server: https://k.example
            certificate-authority: certs/ca.pem
        users:
        - name: u
          user:
            client-certificate: certs/client.crt
            client-key: ./certs/../certs/client.key
            tokenFile: token.txt
        - name: e
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: bin/plugin.sh
              interactiveMode: Never
        contexts:
        - name: c
          context: {cluster: k, user: u}
        """)
        let parsed = try KubeconfigLoader.load(path: kubeconfig)
        #expect(parsed.clusters["k"]?.certificateAuthority == dir.url("conf/certs/ca.pem"))
        #expect(parsed.users["u"]?.clientKey == dir.url("conf/certs/client.key"))
        #expect(parsed.users["u"]?.tokenFile == dir.url("conf/token.txt"))
        #expect(parsed.users["e"]?.exec?.command == dir.url("conf/bin/plugin.sh"))

        let config = try ClientConfigurationLoader.load(explicitPath: kubeconfig, environment: env())
        #expect(config.certificateAuthorityPEM == caPEM)
        #expect(config.clientCertificatePEM == certPEM)
        #expect(config.clientKeyPEM == keyPEM)
        guard case .tokenFile(let source) = config.authentication else { Issue.record("expected tokenFile"); return }
        #expect(try source.token() == "file-token")
    }

    @Test func dataFieldsAreDecoded() throws {
        let dir = try TempDir()
        let path = try dir.write("kubeconfig", """
        current-context: c
        clusters:
        - name: k
          cluster:
            server: k.example:6443
            certificate-authority-data: \(base64(caPEM))
        users:
        - name: u
          user:
            client-certificate-data: \(base64(certPEM))
            client-key-data: \(base64(keyPEM))
        contexts:
        - name: c
          context: {cluster: k, user: u, namespace: ns1}
        """)
        let config = try KubeconfigLoader.load(path: path).clientConfiguration(environment: env())
        #expect(config.server.absoluteString == "https://k.example:6443")
        #expect(config.namespace == "ns1")
        #expect(config.certificateAuthorityPEM == caPEM)
        #expect(config.clientCertificatePEM == certPEM)
        #expect(config.clientKeyPEM == keyPEM)
        guard case .none = config.authentication else { Issue.record("expected no auth"); return }
    }
}

// MARK: - Errors

@Suite struct KubeconfigErrorTests {
    func config(_ dir: TempDir, cluster: String = "server: https://k.example", user: String = "token: t",
                context: String = "{cluster: k, user: u}", current: String = "c") throws -> String {
        try dir.write("kubeconfig", """
        current-context: \(current)
        clusters:
        - name: k
          cluster:
            \(cluster)
        users:
        - name: u
          user:
            \(user)
        contexts:
        - name: c
          context: \(context)
        """)
    }

    @Test func missingFile() throws {
        let dir = try TempDir()
        let path = dir.url("nope")
        expectError(.fileMissing(path: path), "kubeconfig \(path) does not exist") {
            _ = try ClientConfigurationLoader.load(explicitPath: path, environment: env())
        }
        expectError(.fileMissing(path: path), "kubeconfig \(path) does not exist") {
            _ = try ClientConfigurationLoader.load(environment: env(["KUBECONFIG": path]))
        }
    }

    @Test func unreadableFile() throws {
        let dir = try TempDir()
        expectError(.fileUnreadable(path: dir.path, reason: "is a directory"), "cannot read \(dir.path): is a directory") {
            _ = try KubeconfigLoader.load(path: dir.path)
        }
    }

    @Test func notYAML() throws {
        let dir = try TempDir()
        let path = try dir.write("bad", "clusters: [unclosed\n  - : :\n")
        do {
            _ = try KubeconfigLoader.load(path: path)
            Issue.record("expected an error")
        } catch {
            guard case .notYAML(let p, let reason) = error else { Issue.record("got \(error)"); return }
            #expect(p == path)
            #expect(!reason.isEmpty)
            #expect(error.description.hasPrefix("\(path) is not valid YAML: "))
        }
    }

    @Test func wrongShape() throws {
        let dir = try TempDir()
        let listNotMap = try dir.write("a", "clusters: just-a-string\n")
        expectError(.wrongShape(path: listNotMap, field: "clusters", problem: "expected a list, found a scalar"),
                    "\(listNotMap): clusters: expected a list, found a scalar") {
            _ = try KubeconfigLoader.load(path: listNotMap)
        }
        let path = try config(dir, cluster: "server: [a, b]")
        expectError(.wrongShape(path: path, field: "clusters[0].cluster.server", problem: "expected a string, found a list"),
                    "\(path): clusters[0].cluster.server: expected a string, found a list") {
            _ = try KubeconfigLoader.load(path: path)
        }
        let insecure = try config(dir, cluster: "insecure-skip-tls-verify: maybe")
        expectError(.wrongShape(path: insecure, field: "clusters[0].cluster.insecure-skip-tls-verify",
                                problem: "expected true or false, found \"maybe\""),
                    "\(insecure): clusters[0].cluster.insecure-skip-tls-verify: expected true or false, found \"maybe\"") {
            _ = try KubeconfigLoader.load(path: insecure)
        }
        let noName = try dir.write("b", "users:\n- user: {token: x}\n")
        expectError(.wrongShape(path: noName, field: "users[0].name", problem: "missing name"),
                    "\(noName): users[0].name: missing name") {
            _ = try KubeconfigLoader.load(path: noName)
        }
        let v1 = try config(dir, user: "exec: {apiVersion: client.authentication.k8s.io/v1, command: x}")
        expectError(.wrongShape(path: v1, field: "users[0].user.exec.interactiveMode",
                                problem: "interactiveMode is required for client.authentication.k8s.io/v1"),
                    "\(v1): users[0].user.exec.interactiveMode: interactiveMode is required for client.authentication.k8s.io/v1") {
            _ = try KubeconfigLoader.load(path: v1)
        }
    }

    @Test func contextClusterUserNotFound() throws {
        let dir = try TempDir()
        let path = try config(dir, current: "x")
        expectError(.contextNotFound(name: "x", path: path), "context \"x\" not found in \(path)") {
            _ = try KubeconfigLoader.load(path: path).clientConfiguration(environment: env())
        }
        expectError(.contextNotFound(name: "y", path: path), "context \"y\" not found in \(path)") {
            _ = try ClientConfigurationLoader.load(explicitPath: path, context: "y", environment: env())
        }
        let noCluster = try config(dir, context: "{cluster: ghost, user: u}")
        expectError(.clusterNotFound(name: "ghost", context: "c", path: noCluster),
                    "cluster \"ghost\" (named by context \"c\") not found in \(noCluster)") {
            _ = try KubeconfigLoader.load(path: noCluster).clientConfiguration(environment: env())
        }
        let noUser = try config(dir, context: "{cluster: k, user: nobody}")
        expectError(.userNotFound(name: "nobody", context: "c", path: noUser),
                    "user \"nobody\" (named by context \"c\") not found in \(noUser)") {
            _ = try KubeconfigLoader.load(path: noUser).clientConfiguration(environment: env())
        }
        let empty = try dir.write("empty", "")
        expectError(.noCurrentContext(path: empty), "no context given and current-context is not set in \(empty)") {
            _ = try KubeconfigLoader.load(path: empty).clientConfiguration(environment: env())
        }
    }

    @Test func missingCertificateFiles() throws {
        let dir = try TempDir()
        let path = try config(dir, cluster: "server: https://k.example\n    certificate-authority: certs/ca.pem")
        let ca = dir.url("certs/ca.pem")
        expectError(.referencedFileMissing(path: path, field: "clusters[0].cluster.certificate-authority", file: ca),
                    "\(path): clusters[0].cluster.certificate-authority: cannot read \(ca)") {
            _ = try KubeconfigLoader.load(path: path).clientConfiguration(environment: env())
        }
        let key = dir.url("k.key")
        let userPath = try config(dir, user: "client-key: k.key")
        expectError(.referencedFileMissing(path: userPath, field: "users[0].user.client-key", file: key),
                    "\(userPath): users[0].user.client-key: cannot read \(key)") {
            _ = try KubeconfigLoader.load(path: userPath).clientConfiguration(environment: env())
        }
        let tokenPath = try config(dir, user: "tokenFile: /nonexistent/token")
        expectError(.referencedFileMissing(path: tokenPath, field: "users[0].user.tokenFile", file: "/nonexistent/token"),
                    "\(tokenPath): users[0].user.tokenFile: cannot read /nonexistent/token") {
            _ = try KubeconfigLoader.load(path: tokenPath).clientConfiguration(environment: env())
        }
    }

    @Test func badBase64() throws {
        let dir = try TempDir()
        let path = try config(dir, user: "client-certificate-data: not*base64!")
        expectError(.invalidBase64(path: path, field: "users[0].user.client-certificate-data"),
                    "\(path): users[0].user.client-certificate-data: not valid base64-encoded PEM") {
            _ = try KubeconfigLoader.load(path: path).clientConfiguration(environment: env())
        }
    }

    @Test func missingServerAndBadURLs() throws {
        let dir = try TempDir()
        let path = try config(dir, cluster: "insecure-skip-tls-verify: true")
        expectError(.missingServer(path: path, field: "clusters[0].cluster.server"),
                    "\(path): clusters[0].cluster.server: no server set") {
            _ = try KubeconfigLoader.load(path: path).clientConfiguration(environment: env())
        }
        let bad = try config(dir, cluster: "server: ftp://k.example")
        expectError(.invalidURL(path: bad, field: "clusters[0].cluster.server", value: "ftp://k.example"),
                    "\(bad): clusters[0].cluster.server: \"ftp://k.example\" is not a valid URL") {
            _ = try KubeconfigLoader.load(path: bad).clientConfiguration(environment: env())
        }
    }

    @Test func conflictingAuthentication() throws {
        let dir = try TempDir()
        let path = try config(dir, user: "{token: t, username: u, password: p}")
        expectError(.conflictingAuthentication(path: path, field: "users[0].user", methods: ["token", "basic"]),
                    "\(path): users[0].user: more than one authentication method set (token, basic); only one is allowed") {
            _ = try KubeconfigLoader.load(path: path).clientConfiguration(environment: env())
        }
    }

    @Test func nothingFound() throws {
        let home = dir()
        expectError(.noConfiguration(searched: ["KUBECONFIG (unset)", "in-cluster (KUBERNETES_SERVICE_HOST/PORT unset)", "\(home)/.kube/config"]),
                    "no Kubernetes client configuration found (looked at: KUBECONFIG (unset), in-cluster (KUBERNETES_SERVICE_HOST/PORT unset), \(home)/.kube/config)") {
            _ = try ClientConfigurationLoader.load(environment: env(home: home))
        }
    }

    private func dir() -> String { "/nonexistent-home-\(UUID().uuidString)" }
}

// MARK: - Lookup order

@Suite struct LookupOrderTests {
    func kubeconfig(_ dir: TempDir, _ name: String, server: String) throws -> String {
        try dir.write(name, """
        current-context: c
        clusters: [{name: k, cluster: {server: "\(server)"}}]
        contexts: [{name: c, context: {cluster: k}}]
        """)
    }

    func serviceAccount(_ dir: TempDir) throws -> String {
        try dir.write("sa/token", "sa-token\n")
        try dir.write("sa/ca.crt", caPEM)
        try dir.write("sa/namespace", "controllers\n")
        return dir.url("sa")
    }

    @Test func order() throws {
        let dir = try TempDir()
        let explicit = try kubeconfig(dir, "explicit", server: "https://explicit")
        let fromEnv = try kubeconfig(dir, "env", server: "https://env")
        _ = try kubeconfig(dir, "home/.kube/config", server: "https://home")
        let sa = try serviceAccount(dir)
        let all: [String: String] = ["KUBECONFIG": fromEnv, "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let home = dir.url("home")

        #expect(try ClientConfigurationLoader.load(explicitPath: explicit, environment: env(all, home: home, sa: sa)).server.host == "explicit")
        #expect(try ClientConfigurationLoader.load(environment: env(all, home: home, sa: sa)).server.host == "env")
        var noKubeconfig = all
        noKubeconfig["KUBECONFIG"] = ""
        let inCluster = try ClientConfigurationLoader.load(environment: env(noKubeconfig, home: home, sa: sa))
        #expect(inCluster.server.absoluteString == "https://10.0.0.1:443")
        // A requested context skips in-cluster and goes to ~/.kube/config.
        #expect(try ClientConfigurationLoader.load(context: "c", environment: env(noKubeconfig, home: home, sa: sa)).server.host == "home")
        #expect(try ClientConfigurationLoader.load(environment: env([:], home: home, sa: sa)).server.host == "home")
    }
}

// MARK: - Token files and in-cluster

@Suite struct TokenFileAndInClusterTests {
    @Test func tokenFileRotation() throws {
        let dir = try TempDir()
        let path = try dir.write("token", "first\n")
        let source = TokenFileSource(path: path)
        #expect(try source.token() == "first")
        #expect(try source.token() == "first")
        try dir.write("token", "second-token\n")
        #expect(try source.token() == "second-token")

        // Kubernetes-style rotation: the token is a symlink through `..data`, swapped atomically.
        let fm = FileManager.default
        try dir.write("v1/token", "v1-token")
        try dir.write("v2/token", "v2-token-rotated")
        try fm.createSymbolicLink(atPath: dir.url("..data"), withDestinationPath: "v1")
        try fm.createSymbolicLink(atPath: dir.url("linked"), withDestinationPath: "..data/token")
        let linked = TokenFileSource(path: dir.url("linked"))
        #expect(try linked.token() == "v1-token")
        try fm.createSymbolicLink(atPath: dir.url("..data-new"), withDestinationPath: "v2")
        #expect(rename(dir.url("..data-new"), dir.url("..data")) == 0)
        #expect(try linked.token() == "v2-token-rotated")

        try fm.removeItem(atPath: path)
        #expect(throws: KubeconfigError.fileMissing(path: path)) { try source.token() }
    }

    @Test func inClusterFromDirectory() throws {
        let dir = try TempDir()
        try dir.write("sa/token", "sa-token-1\n")
        try dir.write("sa/ca.crt", caPEM)
        try dir.write("sa/namespace", "controllers\n")
        let environment = env(["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"], sa: dir.url("sa"))
        let config = try InClusterConfig.load(environment: environment)
        #expect(config.server.absoluteString == "https://[fd00::1]:6443")
        #expect(config.namespace == "controllers")
        #expect(config.certificateAuthorityPEM == caPEM)
        guard case .tokenFile(let source) = config.authentication else { Issue.record("expected tokenFile"); return }
        #expect(try source.token() == "sa-token-1")
        try dir.write("sa/token", "sa-token-2-rotated\n")
        #expect(try source.token() == "sa-token-2-rotated")

        try FileManager.default.removeItem(atPath: dir.url("sa/namespace"))
        #expect(try InClusterConfig.load(environment: environment).namespace == "default")

        expectError(.notInCluster(missingVariable: "KUBERNETES_SERVICE_PORT"), "not running in a cluster: KUBERNETES_SERVICE_PORT is not set") {
            _ = try InClusterConfig.load(environment: env(["KUBERNETES_SERVICE_HOST": "h"], sa: dir.url("sa")))
        }
        let tokenPath = dir.url("sa/token")
        try FileManager.default.removeItem(atPath: tokenPath)
        expectError(.fileMissing(path: tokenPath), "kubeconfig \(tokenPath) does not exist") {
            _ = try InClusterConfig.load(environment: environment)
        }
    }
}

// MARK: - Exec plugins

final class TestClock: Sendable {
    let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))  // 2027-01-15
    func now() -> Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

@Suite struct ExecPluginTests {
    func plugin(_ dir: TempDir, _ script: String = tokenPlugin) throws -> String {
        try dir.write("plugin.sh", script, executable: true)
    }

    func provider(_ command: String, version: ExecConfig.APIVersion = .v1, env extra: [(name: String, value: String)] = [],
                  mode: ExecConfig.InteractiveMode = .never, clusterInfo: ExecClusterInfo? = nil, provide: Bool = false,
                  clock: TestClock = TestClock(), timeout: Duration = .seconds(20)) -> ExecCredentialProvider {
        ExecCredentialProvider(
            config: ExecConfig(apiVersion: version, command: command, args: [version.rawValue], env: extra,
                               interactiveMode: mode, provideClusterInfo: provide),
            clusterInfo: clusterInfo, environment: ["PATH": "/usr/bin:/bin"], timeout: timeout,
            now: { clock.now() })
    }

    func expectPluginError(_ provider: ExecCredentialProvider, sourceLocation: SourceLocation = #_sourceLocation,
                           _ check: (ExecPluginError) -> Void) async {
        do {
            let credential = try await provider.credential()
            Issue.record("expected an error, got \(credential)", sourceLocation: sourceLocation)
        } catch let error as ExecPluginError {
            check(error)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: ExecConfig.APIVersion.allCases)
    func cachesAndRerunsAfterInvalidate(version: ExecConfig.APIVersion) async throws {
        let dir = try TempDir()
        let provider = provider(try plugin(dir), version: version, env: [("SUFFIX", "-x")])
        #expect(try await provider.credential().token == "tok-1-x")
        #expect(try await provider.credential().token == "tok-1-x")
        #expect(runs(dir) == 1)
        await provider.invalidate()
        #expect(try await provider.credential().token == "tok-2-x")
        #expect(runs(dir) == 2)
        let info = try JSON.parse(dir.read("execinfo") ?? "")
        #expect(info["apiVersion"]?.stringValue == version.rawValue)
        #expect(info["kind"]?.stringValue == "ExecCredential")
        #expect(info[path: ["spec", "interactive"]] == .bool(false))
        #expect(info[path: ["spec", "cluster"]] == nil)
    }

    @Test func concurrentCallersShareOneRun() async throws {
        let dir = try TempDir()
        let provider = provider(try plugin(dir))
        let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<5 { group.addTask { try await provider.credential().token } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(Set(tokens) == ["tok-1"])
        #expect(runs(dir) == 1)
    }

    @Test func rerunsAfterExpiry() async throws {
        let dir = try TempDir()
        let clock = TestClock()
        let provider = provider(try plugin(dir), env: [("EXPIRES", "2027-01-15T08:10:00Z")], clock: clock)
        let first = try await provider.credential()
        #expect(first.token == "tok-1")
        #expect(first.expiration == Date(timeIntervalSince1970: 1_800_000_000 + 600))
        clock.advance(599)
        #expect(try await provider.credential().token == "tok-1")
        clock.advance(2)
        #expect(try await provider.credential().token == "tok-2")
        #expect(runs(dir) == 2)
    }

    @Test func versionMismatchIsAnError() async throws {
        let dir = try TempDir()
        let command = try plugin(dir, """
        #!/bin/sh
        echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'
        """)
        await expectPluginError(provider(command, version: .v1)) { error in
            #expect(error == .invalidOutput(command: command, problem:
                "apiVersion is \"client.authentication.k8s.io/v1beta1\", but the kubeconfig asks for \"client.authentication.k8s.io/v1\""))
        }
    }

    @Test func providesClusterInfo() async throws {
        let dir = try TempDir()
        let command = try plugin(dir)
        let kubeconfig = try dir.write("kubeconfig", """
        current-context: c
        clusters:
        - name: k
          cluster:
            server: https://k.example:6443
            certificate-authority-data: \(base64(caPEM))
            tls-server-name: api.k
            extensions:
            - name: client.authentication.k8s.io/exec
              extension: {audience: plugboard, retries: 3}
        users:
        - name: u
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1beta1
              command: ./plugin.sh
              args: [client.authentication.k8s.io/v1beta1]
              env: [{name: SUFFIX, value: "-info"}]
              provideClusterInfo: true
        contexts:
        - name: c
          context: {cluster: k, user: u}
        """)
        let config = try KubeconfigLoader.load(path: kubeconfig).clientConfiguration(environment: env())
        guard case .exec(let provider) = config.authentication else { Issue.record("expected exec"); return }
        #expect(provider.config.command == command)
        #expect(provider.config.interactiveMode == .ifAvailable)
        #expect(try await provider.credential().token == "tok-1-info")
        let info = try JSON.parse(dir.read("execinfo") ?? "")
        #expect(info["apiVersion"]?.stringValue == "client.authentication.k8s.io/v1beta1")
        #expect(info[path: ["spec", "cluster", "server"]]?.stringValue == "https://k.example:6443")
        #expect(info[path: ["spec", "cluster", "tls-server-name"]]?.stringValue == "api.k")
        #expect(info[path: ["spec", "cluster", "certificate-authority-data"]]?.stringValue == base64(caPEM))
        #expect(info[path: ["spec", "cluster", "config"]] == ["audience": "plugboard", "retries": 3])
    }

    @Test func clientCertificateCredential() async throws {
        let dir = try TempDir()
        let status = JSON.object(["clientCertificateData": .string(certPEM), "clientKeyData": .string(keyPEM),
                                      "expirationTimestamp": "2027-01-15T08:00:00.5Z"]).serializedString()
        let command = try plugin(dir, """
        #!/bin/sh
        cat <<'JSON'
        {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":\(status)}
        JSON
        """)
        let credential = try await provider(command).credential()
        #expect(credential.token == nil)
        #expect(credential.clientCertificatePEM == certPEM)
        #expect(credential.clientKeyPEM == keyPEM)
        #expect(credential.expiration == Date(timeIntervalSince1970: 1_800_000_000.5))
    }

    @Test func failingPlugin() async throws {
        let dir = try TempDir()
        let command = try plugin(dir, """
        #!/bin/sh
        echo "boom: credentials revoked" >&2
        echo "second line" >&2
        exit 3
        """)
        await expectPluginError(provider(command)) { error in
            #expect(error == .failed(command: command, exitStatus: 3, stderr: "boom: credentials revoked"))
            #expect(error.description == "exec plugin \"\(command)\" exited with status 3: boom: credentials revoked")
        }
    }

    @Test func garbageOutput() async throws {
        let dir = try TempDir()
        let command = try plugin(dir, "#!/bin/sh\necho 'hello, not json'\n")
        await expectPluginError(provider(command)) { error in
            guard case .invalidOutput(let c, let problem) = error else { Issue.record("got \(error)"); return }
            #expect(c == command)
            #expect(problem.hasPrefix("not JSON"))
            #expect(problem.contains("hello, not json"))
        }
        let noStatus = try plugin(dir, """
        #!/bin/sh
        echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'
        """)
        await expectPluginError(provider(noStatus)) { error in
            #expect(error.description == "exec plugin \"\(noStatus)\" printed an invalid ExecCredential: status has neither token nor clientCertificateData/clientKeyData")
        }
    }

    @Test func hangingPluginIsKilled() async throws {
        let dir = try TempDir()
        // `exec` keeps the pid, so the pid written is the sleeping process.
        let command = try plugin(dir, "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 60\n")
        let start = ContinuousClock.now
        await expectPluginError(provider(command, timeout: .milliseconds(500))) { error in
            #expect(error == .timedOut(command: command, seconds: 0.5))
            #expect(error.description == "exec plugin \"\(command)\" did not finish within 0.5 seconds and was killed")
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        let pid = try #require(Int32((dir.read("pid") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<40 where alive {  // the kill is immediate; reaping may take a moment
            alive = kill(pid, 0) == 0
            if alive { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(!alive, "plugin process \(pid) is still running")
    }

    @Test func interactiveAlwaysAndMissingCommand() async throws {
        let dir = try TempDir()
        let command = try plugin(dir)
        await expectPluginError(provider(command, mode: .always)) { error in
            #expect(error == .interactiveModeUnsupported(command: command, mode: "Always"))
        }
        #expect(runs(dir) == 0)
        await expectPluginError(provider("definitely-not-a-plugin-\(UUID().uuidString.prefix(6))")) { error in
            guard case .commandNotFound = error else { Issue.record("got \(error)"); return }
        }
    }
}
