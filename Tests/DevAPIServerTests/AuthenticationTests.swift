import AsyncHTTPClient
import DevAPIServer
import Foundation
import KubeCore
import NIOCore
import NIOSSL
import Logging
import ServiceLifecycle
import Testing

/// The dev server over real HTTPS on loopback, with a CA made at start:
/// bearer tokens and client certificates, as kubectl and client-go use them.
@Suite struct AuthenticationTests {
    @Test func clientCertificateSignedByTheClientCAIsAccepted() async throws {
        let clientCA = try CertificateAuthority(commonName: "test-client-ca")
        try await withDevServer(auth: Authentication(clientCAPEM: clientCA.certificatePEM)) { server, url in
            let issued = try clientCA.issueClientCertificate(user: "alice", groups: ["dev"])
            var tls = try trusting(server)
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem))
            let status = try await get(url + "/api/v1/namespaces", tls: tls)
            #expect(status.code == 200)
            #expect(status.body["kind"] == "NamespaceList")
        }
    }

    @Test func requestWithoutCertificateOrTokenIsUnauthorized() async throws {
        let clientCA = try CertificateAuthority(commonName: "test-client-ca")
        try await withDevServer(auth: Authentication(tokens: ["good": "bob"], clientCAPEM: clientCA.certificatePEM)) { server, url in
            let tls = try trusting(server)
            let anonymous = try await get(url + "/api/v1/namespaces", tls: tls)
            #expect(anonymous.code == 401)
            #expect(anonymous.body["reason"] == "Unauthorized")
            let token = try await get(url + "/api/v1/namespaces", tls: tls, headers: [("Authorization", "Bearer good")])
            #expect(token.code == 200)
            let health = try await get(url + "/healthz", tls: tls)
            #expect(health.code == 200)
        }
    }

    @Test func certificateFromAnotherCAFailsTheHandshake() async throws {
        let clientCA = try CertificateAuthority(commonName: "trusted")
        let otherCA = try CertificateAuthority(commonName: "untrusted")
        try await withDevServer(auth: Authentication(clientCAPEM: clientCA.certificatePEM)) { server, url in
            let issued = try otherCA.issueClientCertificate(user: "mallory")
            var tls = try trusting(server)
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(issued.certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem))
            await #expect(throws: (any Error).self) { _ = try await get(url + "/api/v1/namespaces", tls: tls) }
        }
    }

    @Test func serverCertificateIsVerifiedByClients() async throws {
        try await withDevServer(auth: Authentication()) { _, url in
            // A client that trusts only the system roots must refuse the dev server's certificate.
            await #expect(throws: (any Error).self) {
                _ = try await get(url + "/version", tls: TLSConfiguration.makeClientConfiguration())
            }
        }
    }
}

func trusting(_ server: DevServer) throws -> TLSConfiguration {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(server.certificateAuthority!.certificatePEM.utf8)))
    return tls
}

struct HTTPResult {
    var code: Int
    var body: JSON
}

func get(_ url: String, tls: TLSConfiguration, headers: [(String, String)] = []) async throws -> HTTPResult {
    var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
    configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 10 << 20)
        try await client.shutdown()
        let bytes = Array(body.readableBytesView)
        return HTTPResult(code: Int(response.status.code), body: (try? JSON.parse(bytes)) ?? .string(String(decoding: bytes, as: UTF8.self)))
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Runs a dev server with a generated CA on a free loopback port for the duration of `body`.
func withDevServer(auth: Authentication, _ body: (DevServer, String) async throws -> Void) async throws {
    var configuration = DevServer.Configuration()
    configuration.authentication = auth
    let server = try DevServer(configuration: configuration)
    let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "test")))
    let running = Task { try await group.run() }
    do {
        let url = try await server.ready()
        try await body(server, url)
    } catch {
        await group.triggerGracefulShutdown()
        try? await running.value
        throw error
    }
    await group.triggerGracefulShutdown()
    try await running.value
}
