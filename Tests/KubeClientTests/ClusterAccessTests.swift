import DevAPIServer
import Foundation
import KubeClient
import KubeCore
import Logging
import ServiceLifecycle
import Testing

/// Configuration to connection, end to end: kubeconfig files, exec plugins,
/// client certificates and server names against the dev API server over HTTPS.
@Suite struct ClusterAccessTests {
    static let namespaces = GroupVersionResource(group: "", version: "v1", resource: "namespaces")

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func namespaceNames(_ transport: Transport) async throws -> [String] {
        let list = try await ResourceClient(transport: transport, resource: Self.namespaces, namespace: nil).listObjects()
        return list.items.map(\.metadata.name)
    }

    @Test func kubeconfigWrittenForTheDevServerConnects() async throws {
        try await withServer(auth: Authentication(tokens: ["secret-token": "admin"])) { server, url in
            let dir = try temporaryDirectory()
            let path = dir.appendingPathComponent("kubeconfig").path
            try DevKubeconfig.write(DevKubeconfig.render(server: url, caPEM: server.certificateAuthority?.certificatePEM, token: "secret-token"), to: path)
            let client = try ClientConfigurationLoader.load(explicitPath: path, environment: ConfigEnvironment(variables: [:], homeDirectory: dir.path))
            #expect(client.namespace == "default")
            let transport = try Transport(TransportConfiguration(client))
            #expect(try await namespaceNames(transport).contains("kube-system"))
            try await transport.shutdown()
        }
    }

    @Test func execPluginTokenIsUsedAndRefreshedAfter401() async throws {
        try await withServer(auth: Authentication(tokens: ["from-plugin": "admin"])) { server, url in
            let dir = try temporaryDirectory()
            let plugin = dir.appendingPathComponent("plugin.sh")
            let counter = dir.appendingPathComponent("runs")
            // The first run hands out a token the server does not know; later runs a good one.
            try """
                #!/bin/sh
                n=$(cat "\(counter.path)" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "\(counter.path)"
                if [ $n -eq 1 ]; then t=stale; else t=from-plugin; fi
                printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$t"
                """.write(to: plugin, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugin.path)
            let ca = Data(server.certificateAuthority!.certificatePEM.utf8).base64EncodedString()
            let kubeconfig = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: dev
                  cluster: {server: "\(url)", certificate-authority-data: \(ca)}
                users:
                - name: plugin-user
                  user:
                    exec: {apiVersion: client.authentication.k8s.io/v1, command: "\(plugin.path)", interactiveMode: Never}
                contexts:
                - name: dev
                  context: {cluster: dev, user: plugin-user}
                current-context: dev
                """
            let path = dir.appendingPathComponent("kubeconfig").path
            try kubeconfig.write(toFile: path, atomically: true, encoding: .utf8)
            let client = try ClientConfigurationLoader.load(explicitPath: path, environment: ConfigEnvironment(variables: [:], homeDirectory: dir.path))
            let transport = try Transport(TransportConfiguration(client))
            #expect(try await namespaceNames(transport).contains("default"))
            #expect(try String(contentsOf: counter, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "2")
            // The good token is cached: no third run.
            _ = try await namespaceNames(transport)
            #expect(try String(contentsOf: counter, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "2")
            try await transport.shutdown()
        }
    }

    @Test func clientCertificateAuthenticates() async throws {
        let clientCA = try CertificateAuthority(commonName: "clients")
        try await withServer(auth: Authentication(clientCAPEM: clientCA.certificatePEM)) { server, url in
            let issued = try clientCA.issueClientCertificate(user: "robot")
            var configuration = TransportConfiguration(server: url)
            configuration.certificateAuthorityPEM = server.certificateAuthority?.certificatePEM
            configuration.clientCertificatePEM = issued.certificatePEM
            configuration.clientKeyPEM = issued.privateKeyPEM
            let transport = try Transport(configuration)
            #expect(try await namespaceNames(transport).contains("default"))
            try await transport.shutdown()

            var anonymous = configuration
            anonymous.clientCertificatePEM = nil
            anonymous.clientKeyPEM = nil
            let refused = try Transport(anonymous)
            await #expect { try await namespaceNames(refused) } throws: { ($0 as? KubeAPIError)?.isUnauthorized == true }
            try await refused.shutdown()
        }
    }

    @Test func tlsServerNameIsVerifiedInsteadOfTheAddress() async throws {
        // A certificate for one DNS name and no IP address: reaching 127.0.0.1 needs tls-server-name.
        // (NIOSSL accepts any name when an IP SAN matches the address, so the certificate has none.)
        let ca = try CertificateAuthority(commonName: "names")
        let issued = try ca.issueServerCertificate(dnsNames: ["api.internal.example"], ipAddresses: [])
        try await withServer(auth: Authentication(), tls: .provided(certificateChainPEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM)) { server, url in
            var configuration = TransportConfiguration(server: url)
            configuration.certificateAuthorityPEM = ca.certificatePEM
            configuration.maxRetries = 0
            configuration.tlsServerName = "api.internal.example"
            let named = try Transport(configuration)
            #expect(try await namespaceNames(named).contains("default"))
            try await named.shutdown()

            // AsyncHTTPClient retries a failed handshake until the connect timeout.
            configuration.connectTimeout = .milliseconds(500)
            for name in [nil, "other.example"] as [String?] {
                configuration.tlsServerName = name
                let wrong = try Transport(configuration)
                await #expect(throws: (any Error).self) { try await namespaceNames(wrong) }
                try await wrong.shutdown()
            }
        }
    }

    @Test func watchResumesAfterACutWithoutLosingEvents() async throws {
        try await withServer(auth: Authentication()) { server, url in
            let transport = try trustingTransport(server, url)
            let cms = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: "default")
            func create(_ name: String) async throws {
                _ = try await cms.create(JSON.object(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)]]).serialized())
            }
            var lastVersion = String(server.store.currentResourceVersion)
            try await create("before")
            for try await event in try await cms.watch(WatchOptions(resourceVersion: lastVersion, allowBookmarks: false)) {
                lastVersion = event.object?.metadata.resourceVersion ?? lastVersion
                server.store.cutAllWatches()
            }
            try await create("gap-1")
            try await create("gap-2")
            var names: [String] = []
            for try await event in try await cms.watch(WatchOptions(resourceVersion: lastVersion, allowBookmarks: false)) {
                names.append(event.object?.metadata.name ?? "?")
                if names.count == 2 { server.store.cutAllWatches() }
            }
            #expect(names == ["gap-1", "gap-2"])
            try await transport.shutdown()
        }
    }

    @Test func typedModelsRoundTripThroughTheServer() async throws {
        try await withServer(auth: Authentication()) { server, url in
            let transport = try trustingTransport(server, url)
            let leases = ResourceClient(transport: transport, resource: GroupVersionResource(group: "coordination.k8s.io", version: "v1", resource: "leases"), namespace: "default")
            let lease = Lease(metadata: ObjectMeta(name: "leader", namespace: "default"),
                              spec: .init(holderIdentity: "host-a", leaseDurationSeconds: 15, renewTime: "2026-11-26T00:00:00.000000Z"))
            let created = try JSONDecoder().decode(Lease.self, from: Data(try await leases.create(Array(try JSONEncoder().encode(lease)))))
            #expect(created.spec == lease.spec)
            #expect(created.metadata.resourceVersion != nil)
            try await transport.shutdown()
        }
    }
}

/// A transport to the dev server that trusts its generated CA, with no credentials.
func trustingTransport(_ server: DevServer, _ url: String) throws -> Transport {
    var configuration = TransportConfiguration(server: url)
    configuration.certificateAuthorityPEM = server.certificateAuthority?.certificatePEM
    return try Transport(configuration)
}

func withServer(auth: Authentication, tls: DevServer.Configuration.TLSMode = .generated,
                _ body: (DevServer, String) async throws -> Void) async throws
{
    var configuration = DevServer.Configuration()
    configuration.authentication = auth
    configuration.tls = tls
    let server = try DevServer(configuration: configuration)
    let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
    let running = Task { try await group.run() }
    do {
        try await body(server, try await server.ready())
    } catch {
        await group.triggerGracefulShutdown()
        try? await running.value
        throw error
    }
    await group.triggerGracefulShutdown()
    try await running.value
}
