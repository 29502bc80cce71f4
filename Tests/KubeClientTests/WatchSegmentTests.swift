import Hummingbird
@testable import KubeClient
import KubeCore
import NIOCore
import SeededRandom
import Testing

/// Watch bodies cut into runs of whole lines and decoded apart (in tasks of their own over real
/// HTTP) give exactly what one `WatchLineDecoder` fed the same bytes gives: the same events in
/// the same order, and at a bad line the same error, offset and line number.
@Suite struct WatchSegmentTests {
    /// `count` MODIFIED events of various sizes (some blank lines among them); the line at `bad`
    /// (0-based, if any) is not JSON; with `unterminated`, the last line has no newline.
    static func stream(count: Int, bad: Int? = nil, unterminated: Bool = false, seed: UInt64) -> [UInt8] {
        var random = SplitMix(seed: seed)
        var out: [UInt8] = []
        for i in 0..<count {
            if i == bad {
                out += Array(#"{"type":"MODIFIED","object":{"metadata":{"name":"broken""#.utf8)
            } else if i % 97 == 50 {
                // a blank line
            } else {
                let object: JSON = ["apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": ["name": .string("cm-\(i)"), "namespace": "default", "resourceVersion": .string(String(i + 1))],
                                    "data": ["payload": .string(String(repeating: "x", count: Int.random(in: 0..<3_000, using: &random)))]]
                out += Array(#"{"type":"MODIFIED","object":"#.utf8) + object.serialized() + Array("}".utf8)
            }
            if !(unterminated && i == count - 1) { out.append(0x0A) }
        }
        return out
    }

    /// Cuts `bytes` into pieces of 1 byte to 40 KB.
    static func pieces(_ bytes: [UInt8], seed: UInt64) -> [[UInt8]] {
        var random = SplitMix(seed: seed)
        var pieces: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let n = min(bytes.count - i, Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 1..<64, using: &random) : Int.random(in: 1..<40_000, using: &random))
            pieces.append(Array(bytes[i..<(i + n)]))
            i += n
        }
        return pieces
    }

    /// What one decoder makes of the pieces: the names of the events, and the error if any.
    static func reference(_ pieces: [[UInt8]]) -> (names: [String], error: WatchDecodingError?) {
        var decoder = WatchLineDecoder(cutManagedFields: true)
        var names: [String] = []
        do {
            for piece in pieces { names += try decoder.feed(piece).map { $0.object?.metadata.name ?? "?" } }
            if let last = try decoder.finish() { names.append(last.object?.metadata.name ?? "?") }
        } catch {
            return (names + error.eventsBeforeError.map { $0.object?.metadata.name ?? "?" }, error)
        }
        return (names, nil)
    }

    @Test(arguments: [(bad: Int?.none, unterminated: false), (bad: 1_234, unterminated: false), (bad: nil, unterminated: true)])
    func segmentsDecodeAsOneDecoderDoes(bad: Int?, unterminated: Bool) {
        let bytes = Self.stream(count: 2_000, bad: bad, unterminated: unterminated, seed: 7)
        let pieces = Self.pieces(bytes, seed: 8)
        let expected = Self.reference(pieces)
        let end = bad ?? 2_000
        #expect(expected.names.count == end - (0..<end).filter { $0 % 97 == 50 }.count)
        var splitter = WatchLineSplitter(maxLineLength: 64 << 20)
        var names: [String] = []
        var lines = 0
        var failure: WatchDecodingError?
        var segments: [WatchLineSplitter.Segment] = []
        for piece in pieces {
            if let segment = try? splitter.feed(ByteBuffer(bytes: piece)) { segments.append(segment) }
        }
        if let last = splitter.finish() { segments.append(last) }
        for segment in segments where failure == nil {
            switch WatchLineSplitter.decode(segment, cutManagedFields: true) {
            case .success(let decoded):
                names += decoded.events.map { $0.object?.metadata.name ?? "?" }
                lines += decoded.lines
            case .failure(var error):
                names += error.eventsBeforeError.map { $0.object?.metadata.name ?? "?" }
                error.line += lines
                failure = error
            }
        }
        #expect(names == expected.names)
        #expect(failure?.offset == expected.error?.offset)
        #expect(failure?.line == expected.error?.line)
        if let bad { #expect(failure?.line == bad + 1) }
    }

    @Test func aLineLongerThanTheLimitIsRefusedWhereItBegins() throws {
        var splitter = WatchLineSplitter(maxLineLength: 100)
        #expect(try splitter.feed(ByteBuffer(bytes: Array(repeating: UInt8(ascii: " "), count: 30) + [0x0A])) != nil)
        #expect(throws: WatchLineSplitter.LineTooLong.self) {
            for _ in 0..<5 { _ = try splitter.feed(ByteBuffer(bytes: Array(repeating: UInt8(ascii: "a"), count: 40))) }
        }
        do {
            var again = WatchLineSplitter(maxLineLength: 100)
            _ = try again.feed(ByteBuffer(bytes: Array(repeating: UInt8(ascii: " "), count: 30) + [0x0A] + Array(repeating: UInt8(ascii: "a"), count: 90)))
            _ = try again.feed(ByteBuffer(bytes: Array(repeating: UInt8(ascii: "a"), count: 20)))
            Issue.record("a line of 110 bytes passed a limit of 100")
        } catch {
            #expect(error.offset == 31)
        }
    }

    /// Over real HTTP, with reads large enough to be decoded in tasks of their own: every event
    /// arrives once, in order, in non-empty batches; a bad line ends the stream after the events
    /// before it, with its number and offset in the whole stream.
    @Test(arguments: [Int?.none, 2_345])
    func watchBatchesDecodeReadsInTasksAndKeepTheirOrder(bad: Int?) async throws {
        let bytes = Self.stream(count: 3_000, bad: bad, seed: 11)
        let pieces = Self.pieces(bytes, seed: 12)
        let expected = Self.reference(pieces)
        let router = Router()
        router.get("/api/v1/namespaces/default/configmaps") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                for piece in pieces { try await writer.write(ByteBuffer(bytes: piece)) }
                try await writer.finish(nil)
            })
        }
        let bound = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in bound.continuation.yield(channel.localAddress?.port ?? 0) })
        let running = Task { try await app.runService(gracefulShutdownSignals: []) }
        var ports = bound.stream.makeAsyncIterator()
        let port = await ports.next() ?? 0
        let transport = try Transport(TransportConfiguration(server: "http://127.0.0.1:\(port)"))
        let client = ResourceClient(transport: transport, resource: GroupVersionResource(group: "", version: "v1", resource: "configmaps"), namespace: "default")
        var names: [String] = []
        var failure: (any Error)?
        do {
            for try await batch in try await client.watchBatches(WatchOptions(), cutManagedFields: true) {
                #expect(!batch.isEmpty)
                names += batch.map { $0.object?.metadata.name ?? "?" }
            }
        } catch {
            failure = error
        }
        if let bad {
            let error = try #require(failure as? WatchDecodingError)
            #expect(error.line == bad + 1 && error.line == expected.error?.line && error.offset == expected.error?.offset)
            // The events of the segments before the bad one's all arrived, in order.
            #expect(names.count <= expected.names.count && names == Array(expected.names.prefix(names.count)))
            #expect(names.last.map { Int($0.dropFirst(3))! } ?? 0 >= bad - 100)
        } else {
            #expect(failure == nil)
            #expect(names == expected.names)
        }
        try await transport.shutdown()
        running.cancel()
        _ = try? await running.value
    }
}
