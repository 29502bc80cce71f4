import ArgumentParser
import DevAPIServer
import Foundation
import Informers
import KubeClient
import KubeCore
import Logging

/// Informer initial sync and watch intake against a dev API server in another
/// process, so that the informer's process holds nothing but the informer and
/// its resident memory can be read from /proc.
///
/// `informer-sync`: N ConfigMaps of about 1 KB; for each run a fresh process
/// syncs an informer (paginated LIST, or streaming list) and reports the time to
/// synced, resident memory after sync, peak resident memory, and the resident
/// bytes per cached object. Beside it, the time the server alone takes to send
/// the same state as one LIST, and as a streaming list up to its closing
/// bookmark, each read over a bare socket and thrown away as it arrives.
///
/// `informer-watch`: the server holds N objects and then U updates in its
/// history; a fresh process fills its cache as of before the updates, resumes a
/// reflector there, and times how fast the U MODIFIED events, replayed back to
/// back by the server, go through decoding, the cache and a handler.
struct InformerSyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "informer-sync",
        abstract: "Informer initial sync of N ConfigMaps from a dev API server process: time, resident memory, bytes per object.")

    @Option(help: "ConfigMaps in the server.") var objects = 20_000
    @Option(help: "Approximate size of each stored ConfigMap in bytes.") var size = 1024
    @Option(help: "Timed runs per mode, each in a fresh process.") var runs = 3
    @Option(help: "list, stream or both.") var mode = "both"
    @Option(help: "Updates the server makes after each sync, as fast as it can; memory is measured again once the informer has taken them in.")
    var updates = 10_000

    func run() async throws {
        let modes = mode == "both" ? ["list", "stream"] : [mode]
        guard modes.allSatisfy({ ["list", "stream"].contains($0) }) else { throw ValidationError("--mode must be list, stream or both") }
        let server = try BenchChild.start(["devserver-serve", "--objects", "\(objects)", "--size", "\(size)"])
        defer { server.stop() }
        let url = server.fields["url"] ?? ""

        // The server alone: one unpaginated LIST, and the streaming list up to its closing
        // bookmark, each read to the last byte and dropped as it arrives.
        var serverList = Samples()
        var serverStream = Samples()
        var wireBytes = 0
        var streamBytes = 0
        for run in 0...runs {
            var start = ContinuousClock.now
            wireBytes = try readAndDrop(url, "/api/v1/configmaps", until: nil)
            if run > 0 { serverList.seconds.append(elapsed(start)) }
            start = ContinuousClock.now
            streamBytes = try readAndDrop(
                url, "/api/v1/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
                until: Array(#"BOOKMARK""#.utf8))
            if run > 0 { serverStream.seconds.append(elapsed(start)) }
        }
        print("informer-sync objects=\(objects) list bytes=\(wireBytes) (\(wireBytes / objects) per object, managedFields included) runs=\(runs)")
        print(String(format: "  server alone, one LIST read and dropped: min %.2f s, median %.2f s", serverList.min, serverList.median))
        print(String(format: "  server alone, the streaming list (%d bytes) to its bookmark, read and dropped: min %.2f s, median %.2f s",
                     streamBytes, serverStream.min, serverStream.median))

        for mode in modes {
            var times = Samples()
            var after: [Double] = []
            var peaks: [Double] = []
            var perObject: [Double] = []
            var cachedJSON = 0.0
            var afterUpdates: [Double] = []
            var peaksAfterUpdates: [Double] = []
            for _ in 0..<runs {
                let child = try BenchChild.start(["informer-sync-once", "--url", url, "--mode", mode, "--expect", "\(objects)",
                                                  "--updates", "\(updates)"])
                guard let seconds = Double(child.fields["seconds"] ?? ""), let rss = Double(child.fields["rssAfter"] ?? ""),
                      let peak = Double(child.fields["rssPeak"] ?? ""), let base = Double(child.fields["rssBefore"] ?? ""),
                      let json = Double(child.fields["cachedJSONBytes"] ?? "")
                else { child.stop(); throw ValidationError("informer child reported \(child.fields)") }
                if updates > 0 {
                    server.send("pace \(updates) 1000000000")
                    let fields = child.nextFields()
                    guard let rss = Double(fields["rssAfterUpdates"] ?? ""), let peak = Double(fields["rssPeakAfterUpdates"] ?? "") else {
                        child.stop()
                        throw ValidationError("informer child reported \(fields) after the updates")
                    }
                    afterUpdates.append(rss)
                    peaksAfterUpdates.append(peak)
                }
                child.stop()
                times.seconds.append(seconds)
                after.append(rss)
                peaks.append(peak)
                perObject.append((rss - base) / Double(objects))
                cachedJSON = json / Double(objects)
            }
            let mb = 1_048_576.0
            print("  \(mode == "list" ? "paginated LIST (500 per page)" : "streaming list (sendInitialEvents)"):")
            print(String(format: "    time to synced: min %.2f s, median %.2f s (%.1fx the server's own LIST at median%@)",
                         times.min, times.median, times.median / serverList.median,
                         mode == "stream" ? String(format: "; %.1fx its own streaming list", times.median / serverStream.median) : ""))
            print(String(format: "    resident after sync: median %.0f MB; peak resident: median %.0f MB",
                         median(after) / mb, median(peaks) / mb))
            print(String(format: "    resident bytes per cached object: median %.0f (the cached JSON itself: %.0f bytes per object)",
                         median(perObject), cachedJSON))
            if updates > 0 {
                print(String(format: "    after %d updates taken in: resident median %.0f MB, peak resident median %.0f MB",
                             updates, median(afterUpdates) / mb, median(peaksAfterUpdates) / mb))
            }
        }
    }
}

struct InformerWatchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "informer-watch",
        abstract: "Replayed watch events through a reflector (decode, cache, handler), from a dev API server process.")

    @Option(help: "ConfigMaps in the server.") var objects = 10_000
    @Option(help: "MODIFIED events replayed.") var events = 10_000
    @Option(help: "Approximate size of each stored ConfigMap in bytes.") var size = 1024
    @Option(help: "Timed runs, each in a fresh process.") var runs = 5

    func run() async throws {
        let server = try BenchChild.start(["devserver-serve", "--objects", "\(objects)", "--size", "\(size)", "--updates", "\(events)"])
        defer { server.stop() }
        var samples = Samples()
        for _ in 0..<runs {
            let child = try BenchChild.start(["informer-watch-once", "--url", server.fields["url"] ?? "",
                                              "--from", server.fields["seeded"] ?? "", "--events", "\(events)"])
            child.stop()
            guard let seconds = Double(child.fields["seconds"] ?? "") else { throw ValidationError("watch child reported \(child.fields)") }
            samples.seconds.append(seconds)
        }
        print("informer-watch objects=\(objects) events=\(events) runs=\(runs)")
        print(String(format: "  all events through the handler: min %.3f s, median %.3f s", samples.min, samples.median))
        print(String(format: "  at median: %.0f events/s (best %.0f events/s)", Double(events) / samples.median, Double(events) / samples.min))
    }
}

// MARK: - Child processes

/// A dev API server on plain HTTP with seeded ConfigMaps, for the informer
/// benchmarks; prints `url=… seeded=RV final=RV` and serves until stdin closes.
struct DevServerServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devserver-serve", abstract: "(used by informer-sync and informer-watch)",
                                                    shouldDisplay: false)

    @Option var objects = 20_000
    @Option var size = 1024
    @Option var updates = 0

    func run() async throws {
        try await withPlainDevServer(historyLimit: objects + updates + 10) { server, url in
            let info = server.store.resource(group: "", version: "v1", resource: "configmaps")!
            for i in 0..<objects { _ = try server.store.createForBenchmark(info, body: configMap(i, size: size)) }
            let seeded = server.store.currentResourceVersion
            for i in 0..<updates {
                _ = try server.store.updateForBenchmark(info, name: "cm-\(i % objects)", data: ["index": .string("u\(i)")])
            }
            FileHandle.standardOutput.write(Data("url=\(url) seeded=\(seeded) final=\(server.store.currentResourceVersion)\n".utf8))
            // Serve until the parent closes stdin. A line `pace N RATE` makes N
            // updates at RATE per second, each stamped with the wall-clock time.
            let commands = AsyncStream<String> { continuation in
                Thread.detachNewThread {
                    while let line = readLine() { continuation.yield(line) }
                    continuation.finish()
                }
            }
            for await line in commands {
                let words = line.split(separator: " ")
                guard words.count == 3, words[0] == "pace", let count = Int(words[1]), let rate = Double(words[2]) else { continue }
                let start = ContinuousClock.now
                for i in 0..<count {
                    let due = start + .nanoseconds(Int64(Double(i) / rate * 1e9))
                    if due > ContinuousClock.now { try? await Task.sleep(until: due, clock: .continuous) }
                    let stamp = String(Int64(Date().timeIntervalSince1970 * 1e9))
                    _ = try server.store.updateForBenchmark(info, name: "cm-\(i % max(objects, 1))", data: ["stamp": .string(stamp)])
                }
            }
        }
    }
}

struct InformerSyncOnce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "informer-sync-once", abstract: "(used by informer-sync)", shouldDisplay: false)

    @Option var url: String
    @Option var mode = "list"
    @Option var expect = 0
    @Option(help: "After the sync line, wait for this many MODIFIED events and print the memory again.") var updates = 0
    @Flag(help: "Exit as soon as the sync line is written, without tearing down: to profile the sync alone (`perf record` of this command).")
    var exitAtSync = false

    func run() async throws {
        let before = residentBytes().current
        let transport = try Transport(TransportConfiguration(server: url))
        let client = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: nil)
        var configuration = ReflectorConfiguration()
        configuration.streamingList = mode == "stream"
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let counter = EventCounter(target: updates)
        let reflector = Reflector(client: client, configuration: configuration, logger: logger) { event in
            if case .updated = event { await counter.add() }
        }
        let start = ContinuousClock.now
        let running = Task { await reflector.run() }
        await reflector.waitForSync()
        let seconds = elapsed(start)
        let memory = residentBytes()
        let objects = reflector.cache.list()
        guard objects.count == expect else { throw ValidationError("synced \(objects.count) objects, expected \(expect)") }
        let json = objects.reduce(0) { $0 + $1.bytes.count }
        // Written unbuffered: the parent reads this line while the process goes on.
        FileHandle.standardOutput.write(Data("seconds=\(seconds) rssBefore=\(before) rssAfter=\(memory.current) rssPeak=\(memory.peak) cachedJSONBytes=\(json)\n".utf8))
        if exitAtSync { Foundation.exit(0) }
        if updates > 0 {
            // The parent now has the server update objects; the cache takes them in.
            await counter.wait()
            let memory = residentBytes()
            FileHandle.standardOutput.write(Data("rssAfterUpdates=\(memory.current) rssPeakAfterUpdates=\(memory.peak)\n".utf8))
        }
        running.cancel()
        await running.value
        try await transport.shutdown()
    }
}

struct InformerWatchOnce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "informer-watch-once", abstract: "(used by informer-watch)", shouldDisplay: false)

    @Option var url: String
    @Option var from: String
    @Option var events = 10_000

    func run() async throws {
        let transport = try Transport(TransportConfiguration(server: url))
        let client = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: nil)
        // The cache as it was before the updates.
        let snapshot = try await client.listObjects(ListOptions(resourceVersion: from, resourceVersionMatch: "Exact"), cutManagedFields: true)
        let cache = ObjectCache()
        _ = cache.replace(with: snapshot.items)
        let counter = EventCounter(target: events)
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let reflector = Reflector(client: client, cache: cache, logger: logger) { event in
            if case .updated = event { await counter.add() }
        }
        let start = ContinuousClock.now
        let running = Task { await reflector.run(resumingFrom: from) }
        await counter.wait()
        let seconds = elapsed(start)
        running.cancel()
        await running.value
        try await transport.shutdown()
        print("seconds=\(seconds)")
    }
}

/// Counts handler calls and wakes one waiter at the target.
actor EventCounter {
    let target: Int
    var count = 0
    var waiter: CheckedContinuation<Void, Never>?
    init(target: Int) { self.target = target }
    func add() {
        count += 1
        if count == target { waiter?.resume(); waiter = nil }
    }
    func wait() async {
        if count >= target { return }
        await withCheckedContinuation { waiter = $0 }
    }
}

/// A child process of this benchmark binary: started, its first output line
/// read as `key=value` fields, stopped by closing its stdin.
final class BenchChild {
    let process = Process()
    let stdin = Pipe()
    let fields: [String: String]

    private init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        output = stdout.fileHandleForReading
        fields = Self.readFields(output)
    }

    private let output: FileHandle

    /// The child's next output line as `key=value` fields (empty at the end of its output).
    func nextFields() -> [String: String] { Self.readFields(output) }

    private static func readFields(_ handle: FileHandle) -> [String: String] {
        var line: [UInt8] = []
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte.first == 0x0a { break }
            line.append(byte.first!)
        }
        var fields: [String: String] = [:]
        for pair in String(decoding: line, as: UTF8.self).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }

    static func start(_ arguments: [String]) throws -> BenchChild { try BenchChild(arguments) }

    func send(_ line: String) {
        stdin.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// Resident set size now and its peak, from /proc/self/status.
func residentBytes() -> (current: Int, peak: Int) {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}

func median(_ values: [Double]) -> Double {
    var samples = Samples()
    samples.seconds = values
    return samples.median
}

/// GETs `path` from the plain-HTTP server at `url` over a bare socket and reads the response as
/// it arrives, keeping nothing: the least a client can do, so the time is the server's. The body
/// ends at its Content-Length or, with `marker`, at the first occurrence of the marker (the
/// connection is then closed). Returns the body bytes read.
func readAndDrop(_ url: String, _ path: String, until marker: [UInt8]?) throws -> Int {
    guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
        throw ValidationError("not an http://host:port URL: \(url)")
    }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ValidationError("socket: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
        throw ValidationError("not an IPv4 address: \(host)")
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw ValidationError("connect \(url): errno \(errno)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nAccept: application/json\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
        throw ValidationError("send: errno \(errno)")
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    var head: [UInt8] = []  // the status line and headers, until the blank line
    var inBody = false
    var bodyLength: Int? = nil
    var body = 0
    var tail: [UInt8] = []
    while true {
        let n = recv(fd, buffer.baseAddress, buffer.count, 0)
        guard n > 0 else { throw ValidationError("GET \(path): the connection closed after \(body) body bytes") }
        var chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        if !inBody {
            let before = head.count
            head += chunk
            guard let end = head.withUnsafeBytes({ offset(of: [13, 10, 13, 10], in: $0) }) else { continue }
            let text = String(decoding: head[..<end], as: UTF8.self)
            guard text.hasPrefix("HTTP/1.1 200") else { throw ValidationError("GET \(path): \(text.prefix(40))") }
            bodyLength = text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
            if marker == nil && bodyLength == nil { throw ValidationError("GET \(path): no Content-Length") }
            chunk = UnsafeRawBufferPointer(rebasing: chunk[(end + 4 - before)...])
            inBody = true
        }
        body += chunk.count
        if let bodyLength {
            if body >= bodyLength { return body }
        } else if let marker {
            let seam = tail + Array(chunk.prefix(marker.count))
            if seam.withUnsafeBytes({ containsBytes($0, marker) }) || containsBytes(chunk, marker) { return body }
            tail = Array(chunk.suffix(marker.count))
        }
    }
}

/// Whether `haystack` contains `needle`.
func containsBytes(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
    offset(of: needle, in: haystack) != nil
}

/// Where `needle` (non-empty) first starts in `haystack`: memchr for its first byte, memcmp for the rest.
func offset(of needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
    guard let base = haystack.baseAddress, let first = needle.first, needle.count <= haystack.count else { return nil }
    let last = haystack.count - needle.count
    var i = 0
    return needle.withUnsafeBytes { n in
        while i <= last {
            guard let hit = memchr(base + i, Int32(first), last - i + 1) else { return nil }
            let j = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + j, n.baseAddress!, needle.count) == 0 { return j }
            i = j + 1
        }
        return nil
    }
}
