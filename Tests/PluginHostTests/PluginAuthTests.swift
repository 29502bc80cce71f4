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

    @Test func aRotatedTokenFileIsPickedUp() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plugin.token")
        try "first-token\n".write(to: file, atomically: true, encoding: .utf8)
        let server = try await PluginConnectionTestServer.start { _ in .reply(PluginConnectionTestServer.response(200, body: Array("{}".utf8))) }
        defer { server.stop() }
        let spec = try Self.spec(port: server.port, auth: "header: X-Plugin-Token\ntokenFile: plugin.token", directory: directory)
        let client = try PluginClient(spec: spec, reconcileURL: { "http://127.0.0.1:\(server.port)/reconcile" },
                                      tokenRefresh: .milliseconds(200))
        defer { Task { try? await client.shutdown() } }

        guard case .response = await client.call(Array("{}".utf8)) else { Issue.record("the call failed"); return }
        #expect(Self.lastHeader(server, "X-Plugin-Token") == "first-token")  // no scheme for a header other than Authorization

        // Rotated (as Kubernetes does, by replacing the file): the old token is sent until a read in
        // the background has taken the new one, which a later call then sends.
        try "second-token".write(to: file, atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(10)
        var sent: [String] = []
        while ContinuousClock.now < deadline {
            guard case .response = await client.call(Array("{}".utf8)) else { Issue.record("a call failed"); return }
            sent.append(Self.lastHeader(server, "X-Plugin-Token") ?? "none")
            if sent.last == "second-token" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sent.last == "second-token")
        #expect(Set(sent).isSubset(of: ["first-token", "second-token"]), "sent \(Set(sent))")
    }

    @Test func aMissingOrEmptyTokenFileFailsTheCallWithItsNameUntilAGoodOneIsThere() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("later.token")
        try "placeholder".write(to: file, atomically: true, encoding: .utf8)
        let server = try await PluginConnectionTestServer.start { _ in .reply(PluginConnectionTestServer.response(200, body: Array("{}".utf8))) }
        defer { server.stop() }
        let spec = try Self.spec(port: server.port, auth: "tokenFile: later.token", directory: directory)
        try FileManager.default.removeItem(at: file)  // gone by the time the client starts
        let client = try PluginClient(spec: spec, reconcileURL: { "http://127.0.0.1:\(server.port)/reconcile" },
                                      tokenRefresh: .milliseconds(200))
        defer { Task { try? await client.shutdown() } }

        guard case .failed(let failure) = await client.call(Array("{}".utf8)) else { Issue.record("a call without its token went out"); return }
        #expect(failure.message.contains("cannot read the plugin's token") && failure.message.contains("later.token"), "\(failure.message)")
        #expect(server.requests.isEmpty)

        try "  \n".write(to: file, atomically: true, encoding: .utf8)
        var message = ""
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !message.contains("empty") {
            if case .failed(let failure) = await client.call(Array("{}".utf8)) { message = failure.message }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(message.contains("token file later.token is empty"), "\(message)")
        #expect(server.requests.isEmpty)

        try "good-token".write(to: file, atomically: true, encoding: .utf8)
        var header: String? = nil
        while ContinuousClock.now < deadline + .seconds(10), header == nil {
            if case .response = await client.call(Array("{}".utf8)) { header = Self.lastHeader(server, "Authorization") }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(header == "Bearer good-token")
    }

    /// The file is read in the background on its own schedule: a plugin called rarely still gets
    /// the rotated token on its first call after the refresh, and a read that finds the file
    /// briefly empty (rewritten in place) keeps the good token.
    @Test func aRarelyCalledPluginGetsTheRotatedTokenAndABadReadKeepsTheGoodOne() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plugin.token")
        try "first-token".write(to: file, atomically: true, encoding: .utf8)
        let server = try await PluginConnectionTestServer.start { _ in .reply(PluginConnectionTestServer.response(200, body: Array("{}".utf8))) }
        defer { server.stop() }
        let spec = try Self.spec(port: server.port, auth: "scheme: Token\ntokenFile: plugin.token", directory: directory)
        let client = try PluginClient(spec: spec, reconcileURL: { "http://127.0.0.1:\(server.port)/reconcile" },
                                      tokenRefresh: .milliseconds(100))
        defer { Task { try? await client.shutdown() } }
        guard case .response = await client.call(Array("{}".utf8)) else { Issue.record("the call failed"); return }
        #expect(Self.lastHeader(server, "Authorization") == "Token first-token")

        // Rotated; no call for several refresh periods; the next call sends the new token.
        try "second-token".write(to: file, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(1000))
        guard case .response = await client.call(Array("{}".utf8)) else { Issue.record("the call failed"); return }
        #expect(Self.lastHeader(server, "Authorization") == "Token second-token")

        // Emptied (as by a writer caught half way): the good token stays.
        try "".write(to: file, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(1000))
        guard case .response = await client.call(Array("{}".utf8)) else { Issue.record("a good token was dropped for an empty file"); return }
        #expect(Self.lastHeader(server, "Authorization") == "Token second-token")
        try "third-token".write(to: file, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(1000))
        guard case .response = await client.call(Array("{}".utf8)) else { Issue.record("the call failed"); return }
        #expect(Self.lastHeader(server, "Authorization") == "Token third-token")
    }
}
