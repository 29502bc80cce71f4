import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cuts a byte stream into lines of at most `limit` bytes.
///
/// A line longer than `limit` is emitted once, cut at the limit and flagged
/// `truncated`; the rest of it, up to its newline, is dropped. So memory stays
/// bounded by `limit` whatever the child writes. A final `\r` is removed.
struct LineSplitter {
    struct Line: Equatable {
        var text: String
        var truncated: Bool
    }

    let limit: Int
    /// Bytes of the current line not yet emitted; never more than `limit`.
    private var pending: [UInt8] = []
    /// True inside an over-long line whose first `limit` bytes were already emitted.
    private var discarding = false

    init(limit: Int) {
        precondition(limit > 0, "a line limit must be positive")
        self.limit = limit
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (Line) -> Void) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            let chunk = bytes[start..<(newline ?? bytes.endIndex)]
            if !discarding {
                let room = limit - pending.count
                pending.append(contentsOf: chunk.prefix(room))
                if chunk.count > room {
                    emit(line(truncated: true))
                    discarding = newline == nil
                } else if newline != nil {
                    emit(line(truncated: false))
                }
            } else if newline != nil {
                discarding = false
            }
            start = newline.map { $0 + 1 } ?? bytes.endIndex
        }
    }

    /// The end of the stream: a last line without a newline is emitted too.
    mutating func finish(_ emit: (Line) -> Void) {
        if !pending.isEmpty { emit(line(truncated: false)) }
        discarding = false
    }

    private mutating func line(truncated: Bool) -> Line {
        defer { pending.removeAll(keepingCapacity: true) }
        var bytes = pending[...]
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        return Line(text: String(decoding: bytes, as: UTF8.self), truncated: truncated)
    }
}

/// Logs what a child writes to one of its pipes, line by line.
enum ChildOutput {
    /// Longest line logged; the rest of a longer one is dropped.
    static let lineLimit = 16 * 1024

    /// Reads `fd` until end of file on a thread of its own, logging each line
    /// at `level` with `stream=<stream>`, then closes `fd`.
    ///
    /// A blocking read on a dedicated thread: the pipe lives as long as the
    /// child, and blocking a thread of the cooperative pool (2 threads on 2
    /// cores) for that long would stall every other task of the host.
    static func forward(_ fd: Int32, stream: String, level: Logger.Level, logger: Logger) {
        Thread.detachNewThread {
            var splitter = LineSplitter(limit: lineLimit)
            let log: (LineSplitter.Line) -> Void = { line in
                var metadata: Logger.Metadata = ["stream": "\(stream)"]
                if line.truncated { metadata["truncated"] = "true" }
                logger.log(level: level, "\(line.text)", metadata: metadata)
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
            defer {
                buffer.deallocate()
                close(fd)
            }
            while true {
                let count = read(fd, buffer.baseAddress, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), log)
            }
            splitter.finish(log)
        }
    }
}
