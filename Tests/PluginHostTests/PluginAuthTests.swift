import Foundation
import PluginConfig
import Testing

@testable import PluginHost

/// The credentials a plugin client sends (`auth`), through a real loopback server.
@Suite struct PluginAuthTests {
    /// A plugin spec calling the test server, with `auth` as given (YAML lines under `auth:`).
    static func spec(port: Int, auth: String, directory: URL) throws -> PluginSpec {
        let yaml = """
            apiVersion: plugboard.dev/v1alpha1
            kind: PlugboardConfig
            plugins:
              - name: guarded
                endpoint: {url: "http://127.0.0.1:\(port)/reconcile"}
                watch: {apiVersion: v1, kind: ConfigMap}
                auth:
            \(auth.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """
        return try #require(try PlugboardConfig.parse(yaml: yaml, baseDirectory: directory.path).plugins.first)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The value of `header` in the last request the server saw.
    static func lastHeader(_ server: PluginConnectionTestServer, _ header: String) -> String? {
        server.requests.last?.headLines.first { $0.lowercased().hasPrefix(header.lowercased() + ":") }
            .map { String($0.dropFirst(header.count + 1)).trimmingCharacters(in: .whitespaces) }
    }

    /// A token file in a fresh directory, a loopback server answering `{}`, and a client of a plugin
    /// whose `auth` (YAML lines) names the file; the file holds `token` when the client starts, or is absent.
    final class Fixture: Sendable {
        let directory: URL
        let file: URL
        let server: PluginConnectionTestServer
        let client: PluginClient
        let refresh: Duration

        init(auth: String, file name: String, token: String?, refresh: Duration) async throws {
            self.refresh = refresh
            directory = try PluginAuthTests.temporaryDirectory()
            file = directory.appendingPathComponent(name)
            if let token { try token.write(to: file, atomically: true, encoding: .utf8) }
            let server = try await PluginConnectionTestServer.start { _ in .reply(PluginConnectionTestServer.response(200, body: Array("{}".utf8))) }
            self.server = server
            let spec = try PluginAuthTests.spec(port: server.port, auth: auth, directory: directory)
            client = try PluginClient(spec: spec, reconcileURL: { "http://127.0.0.1:\(server.port)/reconcile" }, tokenRefresh: refresh)
        }

        /// Replaces the token file's content (atomically, as Kubernetes rotates a projected token).
        func write(_ token: String) throws { try token.write(to: file, atomically: true, encoding: .utf8) }

        func call() async -> CallOutcome { await client.call(Array("{}".utf8)) }

        func lastHeader(_ header: String) -> String? { PluginAuthTests.lastHeader(server, header) }

        /// Writes `token` to the file, makes no call for ten refresh periods, then calls once: the
        /// Authorization header that call sent, nil if it failed.
        func authorizationAfterWriting(_ token: String) async throws -> String? {
            try write(token)
            try await Task.sleep(for: refresh * 10)
            guard case .response = await call() else { return nil }
            return lastHeader("Authorization")
        }

        func close() async {
            try? await client.shutdown()
            server.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test func aRotatedTokenFileIsPickedUp() async throws {
        let f = try await Fixture(auth: "header: X-Plugin-Token\ntokenFile: plugin.token", file: "plugin.token",
                                  token: "first-token\n", refresh: .milliseconds(200))
        defer { Task { await f.close() } }

        guard case .response = await f.call() else { Issue.record("the call failed"); return }
        #expect(f.lastHeader("X-Plugin-Token") == "first-token")  // no scheme for a header other than Authorization

        // Rotated (as Kubernetes does, by replacing the file): the old token is sent until a read in
        // the background has taken the new one, which a later call then sends.
        try f.write("second-token")
        let deadline = ContinuousClock.now + .seconds(10)
        var sent: [String] = []
        while ContinuousClock.now < deadline {
            guard case .response = await f.call() else { Issue.record("a call failed"); return }
            sent.append(f.lastHeader("X-Plugin-Token") ?? "none")
            if sent.last == "second-token" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sent.last == "second-token")
        #expect(Set(sent).isSubset(of: ["first-token", "second-token"]), "sent \(Set(sent))")
    }

    @Test func aMissingOrEmptyTokenFileFailsTheCallWithItsNameUntilAGoodOneIsThere() async throws {
        let f = try await Fixture(auth: "tokenFile: later.token", file: "later.token", token: nil, refresh: .milliseconds(200))
        defer { Task { await f.close() } }

        guard case .failed(let failure) = await f.call() else { Issue.record("a call without its token went out"); return }
        #expect(failure.message.contains("cannot read the plugin's token") && failure.message.contains("later.token"), "\(failure.message)")
        #expect(f.server.requests.isEmpty)

        try f.write("  \n")
        var message = ""
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !message.contains("empty") {
            if case .failed(let failure) = await f.call() { message = failure.message }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(message.contains("token file later.token is empty"), "\(message)")
        #expect(f.server.requests.isEmpty)

        try f.write("good-token")
        var header: String? = nil
        while ContinuousClock.now < deadline + .seconds(10), header == nil {
            if case .response = await f.call() { header = f.lastHeader("Authorization") }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(header == "Bearer good-token")
    }

    /// The file is read in the background on its own schedule: a plugin called rarely still gets
    /// the rotated token on its first call after the refresh, and a read that finds the file
    /// briefly empty (rewritten in place) keeps the good token.
    @Test func aRarelyCalledPluginGetsTheRotatedTokenAndABadReadKeepsTheGoodOne() async throws {
        let f = try await Fixture(auth: "scheme: Token\ntokenFile: plugin.token", file: "plugin.token",
                                  token: "first-token", refresh: .milliseconds(100))
        defer { Task { await f.close() } }
        guard case .response = await f.call() else { Issue.record("the call failed"); return }
        #expect(f.lastHeader("Authorization") == "Token first-token")

        // Rotated; no call for several refresh periods; the next call sends the new token.
        #expect(try await f.authorizationAfterWriting("second-token") == "Token second-token")
        // Emptied (as by a writer caught half way): the good token stays (nil: the call failed).
        #expect(try await f.authorizationAfterWriting("") == "Token second-token")
        #expect(try await f.authorizationAfterWriting("third-token") == "Token third-token")
    }
}
