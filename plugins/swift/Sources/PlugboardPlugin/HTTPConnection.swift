#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed HTTP/1.x request. Header names are lower-cased.
struct HTTPRequest: Sendable {
    var method: String
    /// The target without its query string.
    var path: String
    var version: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

struct HTTPResponse: Sendable {
    var status: Int
    var contentType: String
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []
    /// Close the connection after this response (the request cannot be framed, or the client asked).
    var close = false

    static func text(_ status: Int, _ text: String, close: Bool = false) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8), close: close)
    }

    /// `{"error": message}`, the body of every refusal of a reconcile call.
    static func jsonError(_ status: Int, _ message: String, close: Bool = false) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: Array(#"{"error":\#(jsonString(message))}"#.utf8), close: close)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 417: "Expectation Failed"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}

/// A JSON string literal, for the few bodies written without Foundation.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// Serves the requests of one accepted connection, one after another, on
/// the calling thread, until the client closes it or it cannot be framed.
/// Not shared between threads.
final class HTTPConnection {
    enum ReadOutcome {
        case request(HTTPRequest, keepAlive: Bool)
        /// The client closed or the socket failed: nothing to answer.
        case closed
        /// Answer this, then close: the stream cannot be trusted any more.
        case refuse(HTTPResponse)
    }

    static let maxHeaderBytes = 64 << 10
    /// How long a started request may stall before the connection is dropped.
    /// An idle keep-alive connection (no bytes of a next request) waits forever.
    static let stallSeconds = 30

    let fd: Int32
    let maxBodyBytes: Int
    private var buffer: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(fd: Int32, maxBodyBytes: Int) {
        self.fd = fd
        self.maxBodyBytes = maxBodyBytes
    }

    /// Reads, dispatches and answers requests until the connection ends, then closes it.
    func serve(_ handle: (HTTPRequest) -> HTTPResponse) {
        defer { close(fd) }
        configureSocket()
        while true {
            switch readRequest() {
            case .closed:
                return
            case .refuse(var response):
                response.close = true
                if write(response, head: false) { lingeringClose() }
                return
            case .request(let request, let keepAlive):
                var response = handle(request)
                if !keepAlive { response.close = true }
                if request.version == "HTTP/1.0" && !response.close { response.extraHeaders.append(("Connection", "keep-alive")) }
                guard write(response, head: request.method == "HEAD"), !response.close else { return }
            }
        }
    }

    /// After a refusal the client may still be sending the body that was not
    /// read. Closing with unread bytes makes the kernel send a reset, which can
    /// destroy the refusal before the client reads it; so stop writing, and
    /// read and drop what comes for a moment, until the client closes.
    private func lingeringClose() {
        _ = shutdown(fd, Int32(SHUT_WR))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var drained = 0
        let started = time(nil)
        while drained < 64 << 20, time(nil) - started < 3 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { drained += count; continue }
            if count < 0 && errno == EINTR { continue }
            return
        }
    }

    private func configureSocket() {
        var timeout = timeval(tv_sec: Self.stallSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var on: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    private enum Fill { case data, eof, stalled, failed }

    /// Appends what the socket has to the buffer.
    private func fill() -> Fill {
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return .data
            }
            if count == 0 { return .eof }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .stalled
            default: return .failed
            }
        }
    }

    private func readRequest() -> ReadOutcome {
        // Find the end of the head; empty lines before a request are allowed (RFC 9112 §2.2).
        var searched = 0
        var headEnd: Int?
        while headEnd == nil {
            while buffer.count >= 2 && buffer[0] == 13 && buffer[1] == 10 { buffer.removeFirst(2) }
            headEnd = Self.find([13, 10, 13, 10], in: buffer, from: max(0, searched - 3))
            if headEnd != nil { break }
            searched = buffer.count
            if buffer.count > Self.maxHeaderBytes { return .refuse(.text(431, "request head larger than \(Self.maxHeaderBytes) bytes")) }
            switch fill() {
            case .data: continue
            case .stalled: if buffer.isEmpty { continue } else { return .refuse(.text(408, "request incomplete after \(Self.stallSeconds)s")) }
            case .eof, .failed: return .closed
            }
        }
        guard let headEnd else { return .closed }
        guard headEnd <= Self.maxHeaderBytes else { return .refuse(.text(431, "request head larger than \(Self.maxHeaderBytes) bytes")) }
        guard let head = String(validating: buffer[0..<headEnd], as: UTF8.self) else { return .refuse(.text(400, "request head is not UTF-8")) }
        let bodyStart = headEnd + 4

        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, !requestLine[0].isEmpty, requestLine[1].first == "/" || requestLine[1] == "*" else {
            return .refuse(.text(400, "malformed request line"))
        }
        let version = String(requestLine[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return version.hasPrefix("HTTP/") ? .refuse(.text(505, "only HTTP/1.0 and HTTP/1.1")) : .refuse(.text(400, "malformed request line"))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(where: { $0 == " " || $0 == "\t" }), line.first != " ", line.first != "\t" else {
                return .refuse(.text(400, "malformed header line"))
            }
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            headers.append((line[..<colon].lowercased(), value))
        }

        // Framing: Content-Length only. A body in any transfer coding cannot be
        // framed here, so the rest of the stream is refused with the request.
        if headers.contains(where: { $0.name == "transfer-encoding" }) {
            return .refuse(.jsonError(411, "chunked or other transfer-encoded request bodies are not supported; send Content-Length"))
        }
        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        var length = 0
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
                  first.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let parsed = Int(first) else {
                return .refuse(.jsonError(400, "invalid Content-Length"))
            }
            length = parsed
        }
        if length > maxBodyBytes {
            return .refuse(.jsonError(413, "request body of \(length) bytes is larger than \(maxBodyBytes) bytes"))
        }
        let connection = headers.first { $0.name == "connection" }?.value.lowercased() ?? ""
        let tokens = connection.split(separator: ",").map { $0.trimmingWhitespace() }
        let keepAlive = version == "HTTP/1.1" ? !tokens.contains("close") : tokens.contains("keep-alive")

        if let expect = headers.first(where: { $0.name == "expect" })?.value {
            guard expect.lowercased() == "100-continue" else { return .refuse(.text(417, "unsupported expectation")) }
            if version == "HTTP/1.1" && buffer.count < bodyStart + length {
                guard write(HTTPResponse(status: 100, contentType: "", body: []), interim: true) else { return .closed }
            }
        }

        buffer.reserveCapacity(bodyStart + length)
        while buffer.count < bodyStart + length {
            switch fill() {
            case .data: continue
            case .stalled: return .refuse(.text(408, "request body incomplete after \(Self.stallSeconds)s"))
            case .eof, .failed: return .closed
            }
        }
        let body = Array(buffer[bodyStart..<bodyStart + length])
        buffer.removeFirst(bodyStart + length)  // keeps a pipelined next request

        let target = requestLine[1]
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return .request(HTTPRequest(method: String(requestLine[0]), path: path, version: version, headers: headers, body: body),
                        keepAlive: keepAlive)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { bytes -> Int? in
            var i = start
            let last = bytes.count - needle.count
            while i <= last {
                if bytes[i] == needle[0] {
                    var match = true
                    for j in 1..<needle.count where bytes[i + j] != needle[j] { match = false; break }
                    if match { return i }
                }
                i += 1
            }
            return nil
        }
    }

    /// Sends a response; false when the connection is gone.
    private func write(_ response: HTTPResponse, head: Bool = false, interim: Bool = false) -> Bool {
        var text = "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\n"
        if !interim {
            text += "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
            for (name, value) in response.extraHeaders { text += "\(name): \(value)\r\n" }
            if response.close { text += "Connection: close\r\n" }
        }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if !head { bytes += response.body }
        return sendAll(bytes)
    }

    private func sendAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                #if canImport(Glibc)
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
                #endif
                if sent < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += sent
            }
            return true
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
