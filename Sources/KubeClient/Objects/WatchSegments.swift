#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import Synchronization

/// The index of the first newline in `bytes` at or after `start`. `memchr` looks at a vector of
/// bytes at a time: a watch line is a whole object, a kilobyte or more.
func newlineIndex(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
    guard start < bytes.count, let base = bytes.baseAddress else { return nil }
    return memchr(base + start, 0x0A, bytes.count - start).map { UnsafeRawPointer($0) - base }
}

/// Cuts a watch response body into runs of whole lines that can be decoded apart from each other,
/// so that the lines of one read are decoded while those of the next are read (and, on a machine
/// with spare cores, beside them). A run is the chunk's own bytes from the line after its first
/// newline to its last one, preceded by the line that was cut at the chunk's start (the carried
/// bytes plus the chunk up to its first newline): only that one line is copied.
struct WatchLineSplitter {
    /// Whole lines, ready to decode.
    struct Segment: Sendable {
        /// Stream offset of the segment's first byte.
        var offset: Int
        /// A line begun in earlier chunks, completed (newline included); empty when none was carried.
        var head: [UInt8]
        var chunk: ByteBuffer
        /// Whole lines within `chunk`'s readable bytes, after `head`'s part.
        var lines: Range<Int>
        /// The end of the stream: `head` is a last line without a newline.
        var final = false

        var byteCount: Int { head.count + lines.count }
    }

    /// A line grew past the limit without ending; the offset is where it began.
    struct LineTooLong: Error {
        var offset: Int
    }

    let maxLineLength: Int
    private var carry: [UInt8] = []
    /// Stream offset of the next byte fed.
    private var offset = 0

    init(maxLineLength: Int) { self.maxLineLength = maxLineLength }

    /// The whole lines `chunk` completes, if any; the rest of it is carried to the next call.
    mutating func feed(_ chunk: ByteBuffer) throws(LineTooLong) -> Segment? {
        let chunkOffset = offset
        let count = chunk.readableBytes
        offset += count
        guard count > 0 else { return nil }
        let bounds = chunk.withUnsafeReadableBytes { raw -> (first: Int, last: Int)? in
            guard let first = newlineIndex(in: raw, from: 0) else { return nil }
            var last = count - 1
            while raw[last] != 0x0A { last -= 1 }
            return (first, last)
        }
        guard let (first, last) = bounds else {
            try carryOn(chunk.readableBytesView)
            return nil
        }
        let segment: Segment
        if carry.isEmpty {
            segment = Segment(offset: chunkOffset, head: [], chunk: chunk, lines: 0..<(last + 1))
        } else {
            var head = carry
            head.append(contentsOf: chunk.readableBytesView.prefix(first + 1))
            if head.count - 1 > maxLineLength { throw LineTooLong(offset: chunkOffset - carry.count) }
            segment = Segment(offset: chunkOffset - carry.count, head: head, chunk: chunk, lines: (first + 1)..<(last + 1))
            carry.removeAll(keepingCapacity: carry.capacity <= 1 << 16)
        }
        if last + 1 < count { try carryOn(chunk.readableBytesView.suffix(from: chunk.readerIndex + last + 1)) }
        return segment
    }

    /// Keeps the start of an unterminated line (the end of the bytes fed so far).
    private mutating func carryOn(_ bytes: ByteBufferView) throws(LineTooLong) {
        carry.append(contentsOf: bytes)
        if carry.count > maxLineLength { throw LineTooLong(offset: offset - carry.count) }
    }

    /// A last line the stream ended without a newline, if any.
    mutating func finish() -> Segment? {
        guard !carry.isEmpty else { return nil }
        defer { carry = [] }
        return Segment(offset: offset - carry.count, head: carry, chunk: ByteBuffer(), lines: 0..<0, final: true)
    }

    /// The events of `segment`, with the number of lines it held; an error's line counts from the
    /// segment's first line.
    static func decode(_ segment: Segment, cutManagedFields: Bool) -> Result<(events: [WatchEvent], lines: Int), WatchDecodingError> {
        var decoder = WatchLineDecoder(cutManagedFields: cutManagedFields, streamOffset: segment.offset)
        var events: [WatchEvent] = []
        do throws(WatchDecodingError) {
            if segment.final {
                // No newline: the bytes wait as the decoder's partial line, which `finish` decodes.
                _ = try segment.head.withUnsafeBufferPointer { (buffer) throws(WatchDecodingError) in try decoder.feed(buffer: buffer) }
                if let last = try decoder.finish() { events.append(last) }
            } else {
                if !segment.head.isEmpty {
                    events = try segment.head.withUnsafeBufferPointer { (buffer) throws(WatchDecodingError) in try decoder.feed(buffer: buffer) }
                }
                if !segment.lines.isEmpty {
                    let more = try segment.chunk.withUnsafeReadableBytes { (raw) throws(WatchDecodingError) -> [WatchEvent] in
                        try decoder.feed(buffer: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[segment.lines]))
                    }
                    if events.isEmpty { events = more } else { events.append(contentsOf: more) }
                }
            }
        } catch {
            var error = error
            error.eventsBeforeError = events + error.eventsBeforeError
            return .failure(error)
        }
        return .success((events, decoder.linesDecoded))
    }
}

/// Hands decoded segments on to a watch's consumer in stream order, keeping the count of lines so
/// far so that a bad line is reported by its number in the whole stream. After an error nothing
/// more is handed on.
final class WatchDelivery: Sendable {
    private let continuation: AsyncThrowingStream<[WatchEvent], any Error>.Continuation
    private let state = Mutex<(lines: Int, ended: Bool)>((0, false))

    init(_ continuation: AsyncThrowingStream<[WatchEvent], any Error>.Continuation) { self.continuation = continuation }

    func deliver(_ result: Result<(events: [WatchEvent], lines: Int), WatchDecodingError>) {
        switch result {
        case .success(let decoded):
            state.withLock { state in
                guard !state.ended else { return }
                state.lines += decoded.lines
                if !decoded.events.isEmpty { continuation.yield(decoded.events) }
            }
        case .failure(let error):
            end { lines in
                var error = error
                error.line += lines
                return error
            }
        }
    }

    /// Ends the stream with an error at the line after the last one handed on.
    func failAtNextLine(offset: Int, reason: String) {
        end { lines in WatchDecodingError(offset: offset, line: lines + 1, reason: reason, eventsBeforeError: []) }
    }

    func fail(_ error: any Error) { end { _ in error } }

    func finish() { end { _ in nil } }

    /// Ends the stream (with the error `outcome` makes of the lines handed on so far, if any),
    /// unless it has ended already.
    private func end(_ outcome: (_ lines: Int) -> (any Error)?) {
        state.withLock { state in
            guard !state.ended else { return }
            state.ended = true
            continuation.finish(throwing: outcome(state.lines))
        }
    }
}
