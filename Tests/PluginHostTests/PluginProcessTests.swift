import AsyncHTTPClient
import Foundation
import Logging
import PluginConfig
@testable import PluginHost
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Real processes: small Python and shell scripts in a temporary directory,
/// supervised on loopback. Every wait is for a condition, with a deadline.
@Suite("Supervised plugin processes")
struct PluginProcessTests {
    @Test("a healthy plugin comes up on its port, with its environment, directory and output logged")
    func healthyPluginComesUp() async throws {
        let scripts = try ScriptDirectory()
        let script = try scripts.write("healthy.py", PluginScripts.healthy)
        let log = LogCapture()
        let states = StateRecorder()
        let process = PluginProcess(
            name: "hello", command: scripts.command("python3", [script], env: ["GREETING": "hi there"]),
            logger: log.logger, httpClient: .shared, onStateChange: states.record
        )
        let waiterReleased = Mutex(false)
        let waiter = Task {
            try await process.waitUntilUp()
            waiterReleased.withLock { $0 = true }
        }
        try await supervising(process) {
            try await eventually { process.isUp }
            try await eventually { waiterReleased.withLock { $0 } }
            try await waiter.value

            let port = try #require(URLComponents(string: process.baseURL)?.port)
            #expect(process.baseURL == "http://127.0.0.1:\(port)")
            let answer = try await get(process.baseURL + "/env")
            let fields = answer.split(separator: "|").map(String.init)
            #expect(fields == ["\(port)", "hi there", scripts.url.resolvingSymlinksInPath().path])
            #expect(process.pid != nil)
            #expect(process.restarts == 0)

            let stdout = try await eventually { log.first { $0.message == "hello from plugin" } }
            #expect(stdout.level == .info)
            #expect(stdout.metadata["plugin"] == "hello")
            #expect(stdout.metadata["stream"] == "stdout")
            let stderr = try await eventually { log.first { $0.message == "a warning line" } }
            #expect(stderr.level == .info)  // plugins log to stderr routinely: not a warning of the host's
            #expect(stderr.metadata["plugin"] == "hello")
            #expect(stderr.metadata["stream"] == "stderr")

            // A line longer than 16 KiB is cut there, and the next line is whole.
            let long = try await eventually { log.first { $0.message.hasPrefix("xxxx") } }
            #expect(long.message.utf8.count == 16 * 1024)
            #expect(long.metadata["truncated"] == "true")
            _ = try await eventually { log.first { $0.message == "after the long line" } }
        }
        #expect(process.state == .stopped)
        #expect(process.pid == nil)
        #expect(states.all == [.starting, .up, .stopped])
    }

    @Test("a killed plugin is restarted on the same port and comes up again")
    func killedPluginRestarts() async throws {
        let scripts = try ScriptDirectory()
        let script = try scripts.write("healthy.py", PluginScripts.healthy)
        let states = StateRecorder()
        let process = PluginProcess(
            name: "phoenix", command: scripts.command("python3", [script], backoff: .milliseconds(50)),
            logger: LogCapture().logger, httpClient: .shared, onStateChange: states.record
        )
        try await supervising(process) {
            try await eventually { process.isUp }
            let url = process.baseURL
            let first = try #require(process.pid)
            #expect(kill(first, SIGKILL) == 0)

            try await eventually { process.restarts == 1 && process.isUp }
            #expect(process.pid != first)
            #expect(process.baseURL == url)
            #expect(try await get(url + "/healthz") == "ok")
            #expect(states.all == [.starting, .up, .down(exitStatus: nil, signal: SIGKILL), .starting, .up])
        }
    }

    @Test("a run that was healthy long enough resets the restart delay to its base", arguments: [true, false])
    func stableRunResetsBackoff(stable: Bool) async throws {
        let scripts = try ScriptDirectory()
        let script = try scripts.write("healthy.py", PluginScripts.healthy)
        let states = StateRecorder()
        let process = PluginProcess(
            name: "steady", command: scripts.command("python3", [script], backoff: .milliseconds(300), maxBackoff: .seconds(10)),
            logger: LogCapture().logger, httpClient: .shared, stopGracePeriod: .seconds(10),
            stableRunDuration: stable ? .zero : .seconds(3600), onStateChange: states.record
        )
        try await supervising(process) {
            for restart in 1...2 {
                try await eventually { process.isUp && process.restarts == restart - 1 }
                #expect(kill(try #require(process.pid), SIGKILL) == 0)
                try await eventually { process.restarts == restart }
            }
        }
        let timed = states.timed
        let downs = timed.indices.filter { if case .down = timed[$0].state { true } else { false } }
        try #require(downs.count == 2)
        let second = timed[downs[1] + 1].at - timed[downs[1]].at
        if stable {
            // 300 ms again, not 600 ms: the slack is for a late wake-up only.
            #expect(second >= .milliseconds(300) && second < .milliseconds(600), "\(second)")
        } else {
            #expect(second >= .milliseconds(600), "\(second)")
        }
    }

    @Test("a plugin that exits at once is restarted after delays that double up to the maximum")
    func exitingPluginBacksOff() async throws {
        let scripts = try ScriptDirectory()
        let states = StateRecorder()
        let command = scripts.command("/bin/sh", ["-c", "exit 3"], backoff: .milliseconds(50), maxBackoff: .milliseconds(200))
        let process = PluginProcess(
            name: "crashy", command: command, logger: LogCapture().logger, httpClient: .shared,
            onStateChange: states.record
        )
        try await supervising(process) {
            try await eventually { states.timed.filter { $0.state == .starting }.count >= 6 }
        }
        let timed = states.timed
        #expect(timed.contains { $0.state == .down(exitStatus: 3, signal: nil) })
        // The delay is the time from each exit to the next start.
        var gaps: [Duration] = []
        for (index, entry) in timed.enumerated() where entry.state == .down(exitStatus: 3, signal: nil) {
            guard index + 1 < timed.count, timed[index + 1].state == .starting else { continue }
            gaps.append(timed[index + 1].at - entry.at)
        }
        try #require(gaps.count >= 5)
        let expected: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(200), .milliseconds(200)]
        for (gap, least) in zip(gaps, expected) {
            #expect(gap >= least, "gaps \(gaps)")
        }
        #expect(process.restarts >= 5)
    }

    @Test("cancelling stops a plugin that ignores SIGTERM with SIGKILL after the grace period, with its whole group")
    func stubbornPluginIsKilled() async throws {
        let scripts = try ScriptDirectory()
        let script = try scripts.write("stubborn.py", PluginScripts.stubborn)
        let log = LogCapture()
        let process = PluginProcess(
            name: "stubborn", command: scripts.command("python3", [script]),
            logger: log.logger, httpClient: .shared, stopGracePeriod: .milliseconds(300)
        )
        let running = Task { await process.run() }
        let leader: pid_t
        let grandchild: pid_t
        do {
            try await eventually { process.isUp }
            leader = try #require(process.pid)
            grandchild = try await eventually { log.grandchildPID() }
        } catch {
            running.cancel()
            await running.value
            throw error
        }
        let cancelled = ContinuousClock.now
        running.cancel()
        await running.value
        #expect(ContinuousClock.now - cancelled >= .milliseconds(300))
        #expect(isGone(leader))
        #expect(isGone(grandchild))
        #expect(log.first { $0.level == .warning && $0.message.contains("SIGKILL") } != nil)
        #expect(process.state == .stopped)
    }

    @Test("cancelling stops a well-behaved plugin with SIGTERM, and nothing of its group is left")
    func cancellationLeavesNothing() async throws {
        let scripts = try ScriptDirectory()
        let script = try scripts.write("parent.py", PluginScripts.withGrandchild)
        let log = LogCapture()
        let process = PluginProcess(
            name: "parent", command: scripts.command("python3", [script]),
            logger: log.logger, httpClient: .shared
        )
        let running = Task { await process.run() }
        let leader: pid_t
        let grandchild: pid_t
        do {
            try await eventually { process.isUp }
            leader = try #require(process.pid)
            grandchild = try await eventually { log.grandchildPID() }
        } catch {
            running.cancel()
            await running.value
            throw error
        }
        let cancelled = ContinuousClock.now
        running.cancel()
        await running.value
        // Well within the default 10 s grace: SIGTERM was enough.
        #expect(ContinuousClock.now - cancelled < .seconds(5))
        #expect(isGone(leader))
        #expect(isGone(grandchild))
    }

    @Test("what a plugin leaves running when it exits is killed with it")
    func leftoversDieWithTheirPlugin() async throws {
        let scripts = try ScriptDirectory()
        let log = LogCapture()
        let process = PluginProcess(
            name: "leaver",
            command: scripts.command("/bin/sh", ["-c", "sleep 300 & echo grandchild $!; exit 0"], backoff: .seconds(30)),
            logger: log.logger, httpClient: .shared
        )
        try await supervising(process) {
            let grandchild = try await eventually { log.grandchildPID() }
            try await eventually { process.state == .down(exitStatus: 0, signal: nil) }
            #expect(isGone(grandchild))
        }
    }

    @Test("a missing command is logged with the plugin and the path, and retried")
    func missingCommandIsRetried() async throws {
        let scripts = try ScriptDirectory()
        for program in ["/nonexistent/dir/plugin-binary", "plugboard-no-such-command"] {
            let log = LogCapture()
            let states = StateRecorder()
            let process = PluginProcess(
                name: "ghost", command: scripts.command(program, [], backoff: .milliseconds(20)),
                logger: log.logger, httpClient: .shared, onStateChange: states.record
            )
            let waiter = Task { try await process.waitUntilUp() }
            try await supervising(process) {
                try await eventually { process.restarts >= 2 }
                let error = try #require(log.first { $0.level == .error })
                #expect(error.message.contains("ghost"))
                #expect(error.message.contains(program))
                #expect(error.metadata["plugin"] == "ghost")
                #expect(process.pid == nil)
            }
            #expect(!states.all.contains(.up))
            #expect(states.all.contains(.down(exitStatus: nil, signal: nil)))
            // run() has returned: whoever waits for the plugin to come up is told so.
            await #expect(throws: CancellationError.self) { try await waiter.value }
        }
    }

    @Test("a file without execute permission is reported as such")
    func notExecutableIsReported() async throws {
        let scripts = try ScriptDirectory()
        let script = try scripts.write("plain.sh", "#!/bin/sh\nexit 0\n", executable: false)
        let log = LogCapture()
        let process = PluginProcess(
            name: "plain", command: scripts.command(script, [], backoff: .milliseconds(20)),
            logger: log.logger, httpClient: .shared
        )
        try await supervising(process) {
            let error = try await eventually { log.first { $0.level == .error } }
            #expect(error.message.contains(script))
            #expect(error.message.contains("no execute permission"))
        }
    }

    @Test("a plugin that never becomes healthy is killed after the start timeout and restarted")
    func unhealthyPluginIsKilled() async throws {
        let scripts = try ScriptDirectory()
        let states = StateRecorder()
        let log = LogCapture()
        let base = scripts.command("/bin/sleep", ["300"], backoff: .milliseconds(20))
        let command = PluginCommand(
            path: base.path, args: base.args, workingDirectory: base.workingDirectory,
            startTimeout: .milliseconds(300), restartBackoff: base.restartBackoff
        )
        let process = PluginProcess(
            name: "mute", command: command, logger: log.logger, httpClient: .shared, onStateChange: states.record
        )
        try await supervising(process) {
            try await eventually { process.restarts >= 1 }
            #expect(states.all.prefix(2) == [.starting, .down(exitStatus: nil, signal: SIGKILL)])
            let error = try #require(log.first { $0.level == .error })
            #expect(error.message.contains("/healthz"))
            #expect(!process.isUp)
        }
    }

    @Test("waiting for a plugin to come up ends with CancellationError when the waiter is cancelled")
    func waitingIsCancellable() async throws {
        let scripts = try ScriptDirectory()
        let process = PluginProcess(
            name: "never", command: scripts.command("/bin/sleep", ["300"]),
            logger: LogCapture().logger, httpClient: .shared
        )
        try await supervising(process) {
            let waiter = Task { try await process.waitUntilUp() }
            try await eventually { process.pid != nil }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
        }
    }

    @Test("restart delays double from the base to the maximum, and start over after a reset")
    func backoffDoubles() {
        var backoff = RestartBackoff(base: .milliseconds(100), max: .milliseconds(700))
        let delays = (0..<6).map { _ in backoff.nextDelay() }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(700), .milliseconds(700), .milliseconds(700)])
        backoff.reset()
        #expect(backoff.nextDelay() == .milliseconds(100))

        var long = RestartBackoff(PluginCommand.defaultRestartBackoff)
        for _ in 0..<200 { _ = long.nextDelay() }
        #expect(long.nextDelay() == .seconds(60))
    }

    @Test("output is cut into lines across reads, long lines capped, the last line kept")
    func linesAreSplit() {
        var splitter = LineSplitter(limit: 8)
        var lines: [LineSplitter.Line] = []
        for chunk in ["ab", "c\nde", "f\r\n", "0123456789abc", "def\nlast"] {
            Array(chunk.utf8).withUnsafeBytes { splitter.feed($0) { lines.append($0) } }
        }
        splitter.finish { lines.append($0) }
        #expect(lines == [
            .init(text: "abc", truncated: false),
            .init(text: "def", truncated: false),
            .init(text: "01234567", truncated: true),
            .init(text: "last", truncated: false),
        ])

        var exact = LineSplitter(limit: 4)
        var exactLines: [LineSplitter.Line] = []
        for chunk in ["abcd", "\n", "abcde\n"] {
            Array(chunk.utf8).withUnsafeBytes { exact.feed($0) { exactLines.append($0) } }
        }
        #expect(exactLines == [.init(text: "abcd", truncated: false), .init(text: "abcd", truncated: true)])
    }
}

// MARK: - Scripts

private enum PluginScripts {
    /// Answers /healthz and /env (port, GREETING and working directory), writes to both streams.
    static let healthy = """
        import http.server, os, sys
        port = int(os.environ["PLUGBOARD_PORT"])
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/healthz":
                    body = b"ok"
                elif self.path == "/env":
                    body = "|".join([os.environ["PLUGBOARD_PORT"], os.environ.get("GREETING", ""), os.getcwd()]).encode()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        print("hello from plugin", flush=True)
        print("a warning line", file=sys.stderr, flush=True)
        print("x" * 20000, flush=True)
        print("after the long line", flush=True)
        server.serve_forever()
        """

    /// Healthy, ignores SIGTERM, and starts a grandchild that ignores it too.
    static let stubborn = """
        import signal, subprocess
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        """ + "\n" + withGrandchild

    /// Healthy, with a grandchild (`sleep`) whose pid it prints.
    static let withGrandchild = """
        import http.server, os, subprocess
        grandchild = subprocess.Popen(["sleep", "300"])
        print("grandchild", grandchild.pid, flush=True)
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            def log_message(self, *args):
                pass
        http.server.HTTPServer(("127.0.0.1", int(os.environ["PLUGBOARD_PORT"])), Handler).serve_forever()
        """
}

/// A temporary directory for one test's scripts, removed when the test is done.
private final class ScriptDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("plugboard-sup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func write(_ name: String, _ text: String, executable: Bool = true) throws -> String {
        let file = url.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: file.path)
        return file.path
    }

    func command(
        _ program: String, _ args: [String], env: [String: String] = [:],
        backoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(1)
    ) -> PluginCommand {
        PluginCommand(
            path: ResolvedPath(written: program, resolved: program),
            args: args,
            env: env,
            workingDirectory: ResolvedPath(written: ".", resolved: url.path),
            restartBackoff: Backoff(base: backoff, max: maxBackoff)
        )
    }
}

// MARK: - Helpers

/// Runs `process` for the length of `body`, then cancels it and waits for `run()` to return.
private func supervising(_ process: PluginProcess, _ body: () async throws -> Void) async throws {
    let running = Task { await process.run() }
    do {
        try await body()
    } catch {
        running.cancel()
        await running.value
        throw error
    }
    running.cancel()
    await running.value
}

struct TimedOut: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` every 10 ms until it holds; fails after `limit`.
func eventually(
    within limit: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () throws -> Bool
) async throws {
    _ = try await eventually(within: limit, sourceLocation: sourceLocation) { try condition() ? true : nil }
}

/// Polls `value` every 10 ms until it is not nil; fails after `limit`.
func eventually<T>(
    within limit: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ value: () throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        if let found = try value() { return found }
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(limit)", sourceLocation: sourceLocation)
            throw TimedOut(description: "condition not met within \(limit)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// True when no process has this id: exited and reaped, not a zombie.
private func isGone(_ pid: pid_t) -> Bool {
    kill(pid, 0) != 0 && errno == ESRCH
}

private func get(_ url: String) async throws -> String {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
    let body = try await response.body.collect(upTo: 1 << 20)
    return String(buffer: body)
}

/// Every state a process entered, with when.
private final class StateRecorder: Sendable {
    struct Entry: Sendable {
        let state: PluginProcess.State
        let at: ContinuousClock.Instant
    }

    private let entries = Mutex<[Entry]>([])

    var record: @Sendable (PluginProcess.State) -> Void {
        { [self] state in entries.withLock { $0.append(Entry(state: state, at: .now)) } }
    }

    var timed: [Entry] { entries.withLock { $0 } }
    var all: [PluginProcess.State] { timed.map(\.state) }
}

/// Keeps every log record for the test to look at.
final class LogCapture: Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    var logger: Logger {
        Logger(label: "plugin-process-test") { _ in CapturingLogHandler(capture: self) }
    }

    func append(_ record: Record) {
        records.withLock { $0.append(record) }
    }

    func first(where matches: (Record) -> Bool) -> Record? {
        records.withLock { $0.first(where: matches) }
    }

    /// The pid a script printed as `grandchild <pid>`.
    func grandchildPID() -> pid_t? {
        first { $0.message.hasPrefix("grandchild ") }.flatMap { pid_t($0.message.dropFirst("grandchild ".count)) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, call in call }
        capture.append(.init(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}
