import NIOCore
import NIOPosix
import Synchronization

/// Why a ``PluginConnectionPool/post(_:headers:timeout:)`` failed.
public struct PluginConnectionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The URL is not a plain `http://` URL this pool can use.
        case invalidURL = "invalid_url"
        /// The whole call (wait for a connection, connect, write, response) took longer than its timeout.
        case timeout
        /// The response body is larger than the pool's cap.
        case responseTooLarge = "response_too_large"
        /// The response is not well-formed HTTP/1.1.
        case invalidResponse = "invalid_response"
        /// No connection could be opened (refused, no route, unknown host).
        case connectFailed = "connect_failed"
        /// The connection was closed or broke before the response was complete.
        case connectionClosed = "connection_closed"
        /// The pool was shut down.
        case shutdown
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }
    /// Closed before any response byte arrived: the request may be sent again on another connection.
    var beforeResponse = false

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    init(closedBeforeResponse message: String) {
        self.init(kind: .connectionClosed, message: message)
        self.beforeResponse = true
    }
}

/// A keep-alive HTTP/1.1 client for one plain-HTTP plugin endpoint, with up to `connections` connections.
///
/// Each call takes an idle connection (or opens one while fewer than `connections` exist, or else waits for
/// one), writes the request in one write with a `Content-Length` body, reads exactly one response and gives
/// the connection back unless the server closed it. The request line and `Host` header are built once, at
/// init; the response is parsed straight from the socket's bytes on the event loop.
public final class PluginConnectionPool: Sendable {
    public static let defaultMaxResponseBytes = 16 << 20

    public let host: String
    public let port: Int
    public let path: String
    public let maxConnections: Int
    public let maxResponseBytes: Int
    private let group: any EventLoopGroup
    /// `POST <path> HTTP/1.1\r\nHost: <host>\r\n`
    private let requestPrefix: ByteBuffer
    private let allocator = ByteBufferAllocator()
    private let state = Mutex(PoolState())
    /// The loops of `group`: a caller running on one of them is given a connection of its own loop.
    private let loops: [ObjectIdentifier]

    /// - Parameters:
    ///   - url: `http://host[:port][/path]`; the path (with any query) is what every call posts to.
    ///   - connections: the most connections kept open at once (the plugin's workers).
    public init(
        url: String,
        connections: Int,
        maxResponseBytes: Int = PluginConnectionPool.defaultMaxResponseBytes,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        let parsed = try Self.parse(url)
        self.host = parsed.host
        self.port = parsed.port
        self.path = parsed.path
        self.maxConnections = max(connections, 1)
        self.maxResponseBytes = maxResponseBytes
        self.group = eventLoopGroup
        var loops: [ObjectIdentifier] = []
        for loop in eventLoopGroup.makeIterator() { loops.append(ObjectIdentifier(loop)) }
        self.loops = loops
        var prefix = ByteBufferAllocator().buffer(capacity: 64 + parsed.path.utf8.count + parsed.hostHeader.utf8.count)
        prefix.writeString("POST \(parsed.path) HTTP/1.1\r\nHost: \(parsed.hostHeader)\r\n")
        self.requestPrefix = prefix
    }

    deinit {
        // Without shutdown(), idle connections would otherwise stay open.
        for connection in state.withLock({ $0.idle }) { connection.channel.close(promise: nil) }
    }

    /// POSTs `body` with `headers` (plus `Host` and `Content-Length`, which the pool writes) and returns the
    /// response. The whole call, including waiting for a free connection and connecting, must end within
    /// `timeout`. A reused connection that turns out to be closed before any response byte arrived is
    /// replaced by a fresh one and the request sent again, once.
    ///
    /// A caller running on one of the event loops of the pool's group (see `EventLoopTaskExecutor`) is given
    /// an idle connection of that loop, or a new one opened on it while fewer than `connections` exist,
    /// before an idle connection of another loop: its request and response then need no thread hop.
    public nonisolated(nonsending) func post(
        _ body: [UInt8],
        headers: [(String, String)],
        timeout: Duration
    ) async throws -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        try await post(body, headers: EncodedHeaders(headers), timeout: timeout)
    }

    /// Request headers encoded once, for calls that all send the same ones (`Content-Length` is left out:
    /// the pool writes it).
    public struct EncodedHeaders: Sendable {
        let bytes: ByteBuffer

        public init(_ headers: [(String, String)]) {
            var size = 0
            for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            for (name, value) in headers {
                if PluginConnectionPool.isContentLength(name) { continue }
                buffer.writeString(name)
                buffer.writeStaticString(": ")
                buffer.writeString(value)
                buffer.writeStaticString("\r\n")
            }
            self.bytes = buffer
        }
    }

    /// `post(_:headers:timeout:)` with the headers already encoded.
    public nonisolated(nonsending) func post(
        _ body: [UInt8],
        headers: EncodedHeaders,
        timeout: Duration
    ) async throws -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        try Task.checkCancellation()
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let request = makeRequest(body, headers: headers)
        let here = currentLoop()
        // Decided without a suspension unless the call must wait for a connection.
        var lease: Lease
        switch state.withLock({ decide(&$0, on: here) }) {
        case .lease(let now): lease = now
        case .fail(let error): throw error
        case .wait: lease = try await waitForLease(deadline: deadline, on: here)
        }
        var retried = false
        while true {
            let connection: Connection
            switch lease {
            case .reuse(let idle):
                connection = idle
            case .connect:
                do {
                    connection = try await connect(deadline: deadline, on: here)
                } catch {
                    releaseSlot()
                    throw error
                }
            }
            do {
                let response = try await connection.execute(request, deadline: deadline)
                if response.keepAlive {
                    release(connection)
                } else {
                    discard(connection)
                }
                return (response.status, response.headers, response.body)
            } catch let error as PluginConnectionError where error.kind == .connectionClosed {
                // Closed before any response byte: on a reused connection, most likely the server closed it
                // while it was idle. The request is idempotent: send it again on a new connection, keeping
                // this connection's slot.
                if connection.reused, !retried, error.beforeResponse {
                    retried = true
                    abandon(connection)
                    lease = .connect
                    continue
                }
                discard(connection)
                throw error
            } catch {
                discard(connection)
                throw error
            }
        }
    }

    /// Closes every idle connection and fails the calls waiting for one; a connection in use is closed when
    /// its call ends. Calls made afterwards fail.
    public func shutdown() async {
        let (idle, waiters) = state.withLock { state -> ([Connection], [Waiter]) in
            state.shutdown = true
            let idle = state.idle
            let waiters = state.waiters
            state.open -= idle.count
            state.idle.removeAll()
            state.waiters.removeAll()
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PluginConnectionError(kind: .shutdown, message: "the connection pool is shut down"))
        }
        for connection in idle {
            try? await connection.channel.close()
        }
    }

    // MARK: - Requests

    private func makeRequest(_ body: [UInt8], headers: EncodedHeaders) -> ByteBuffer {
        let size = requestPrefix.readableBytes + headers.bytes.readableBytes + 40 + body.count
        var buffer = allocator.buffer(capacity: size)
        buffer.writeImmutableBuffer(requestPrefix)
        buffer.writeImmutableBuffer(headers.bytes)
        buffer.writeStaticString("Content-Length: ")
        buffer.writeString(String(body.count))
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeBytes(body)
        return buffer
    }

    fileprivate static func isContentLength(_ name: String) -> Bool {
        name.utf8.count == 14 && name.lowercased() == "content-length"
    }

    // MARK: - Connections

    /// The event loop the caller runs on, if it is one of the pool's.
    private func currentLoop() -> (any EventLoop)? {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop, loops.contains(ObjectIdentifier(loop)) else { return nil }
        return loop
    }

    /// Opens a connection, on `loop` if given (one of the pool's), else on the group's next loop.
    private func connect(deadline: NIODeadline, on loop: (any EventLoop)?) async throws -> Connection {
        let remaining = deadline - .now()
        guard remaining > .zero else { throw Self.timeoutError() }
        let handler = ResponseHandler(maxBody: maxResponseBytes) { [weak self] handler in
            self?.closed(handler)
        }
        let bootstrap = ClientBootstrap(group: loop ?? group)
            .connectTimeout(remaining)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch ChannelError.connectTimeout(_) {
            throw Self.timeoutError()
        } catch {
            throw PluginConnectionError(kind: .connectFailed, message: "cannot connect to \(host):\(port): \(error)")
        }
        if Task.isCancelled {
            channel.close(promise: nil)
            throw CancellationError()
        }
        return Connection(channel: channel, handler: handler)
    }

    private static func timeoutError() -> PluginConnectionError {
        PluginConnectionError(kind: .timeout, message: "no response within the timeout")
    }

    // MARK: - Pool state

    private struct Waiter {
        var id: UInt64
        var continuation: UnsafeContinuation<Lease, any Error>
    }

    private struct PoolState {
        var idle: [Connection] = []
        /// Connections open or being opened, idle or in use.
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var shutdown = false
    }

    private enum Lease {
        /// Use this idle connection.
        case reuse(Connection)
        /// A slot is reserved for the caller: open a connection.
        case connect
    }

    private enum Decision {
        case lease(Lease)
        case wait
        case fail(PluginConnectionError)
    }

    /// What a caller on `here` (nil: not on one of the pool's loops) gets now: an idle connection of its
    /// loop, else a slot for a new connection, else any idle connection; or it waits.
    private func decide(_ state: inout PoolState, on here: (any EventLoop)?) -> Decision {
        if state.shutdown { return .fail(Self.shutdownError()) }
        if let here {
            if let index = state.idle.lastIndex(where: { $0.eventLoop === here }) {
                return .lease(.reuse(state.idle.remove(at: index)))
            }
        } else if let connection = state.idle.popLast() {
            return .lease(.reuse(connection))
        }
        if state.open < maxConnections {
            state.open += 1
            return .lease(.connect)
        }
        if let connection = state.idle.popLast() { return .lease(.reuse(connection)) }
        return .wait
    }

    private func waitForLease(deadline: NIODeadline, on here: (any EventLoop)?) async throws -> Lease {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timer = group.any().scheduleTask(deadline: deadline) { [weak self] in
            self?.removeWaiter(id)?.resume(throwing: Self.timeoutError())
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Lease, any Error>) in
                let decision = state.withLock { state -> Decision in
                    let decision = decide(&state, on: here)
                    if case .wait = decision { state.waiters.append(Waiter(id: id, continuation: continuation)) }
                    return decision
                }
                switch decision {
                case .lease(let lease): continuation.resume(returning: lease)
                case .fail(let error): continuation.resume(throwing: error)
                case .wait:
                    // Cancelled before the waiter was queued: the cancellation handler found nothing to remove.
                    if Task.isCancelled { removeWaiter(id)?.resume(throwing: CancellationError()) }
                    if deadline <= .now() { removeWaiter(id)?.resume(throwing: Self.timeoutError()) }
                }
            }
        } onCancel: {
            removeWaiter(id)?.resume(throwing: CancellationError())
        }
    }

    private func removeWaiter(_ id: UInt64) -> UnsafeContinuation<Lease, any Error>? {
        state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
    }

    private static func shutdownError() -> PluginConnectionError {
        PluginConnectionError(kind: .shutdown, message: "the connection pool is shut down")
    }

    /// Gives a connection whose call succeeded back to the pool (or to a waiting call).
    private func release(_ connection: Connection) {
        connection.reused = true
        let (handoff, close) = state.withLock { state -> ((UnsafeContinuation<Lease, any Error>, Lease)?, Bool) in
            if connection.handler.closedInPool || state.shutdown {
                connection.handler.closedInPool = true
                return (Self.freeSlot(&state), true)
            }
            if !state.waiters.isEmpty {
                return ((state.waiters.removeFirst().continuation, .reuse(connection)), false)
            }
            state.idle.append(connection)
            return (nil, false)
        }
        if close { connection.channel.close(promise: nil) }
        if let (continuation, lease) = handoff { continuation.resume(returning: lease) }
    }

    /// Closes a connection and frees its slot.
    private func discard(_ connection: Connection) {
        let handoff = state.withLock { state -> (UnsafeContinuation<Lease, any Error>, Lease)? in
            connection.handler.closedInPool = true
            return Self.freeSlot(&state)
        }
        connection.channel.close(promise: nil)
        if let (continuation, lease) = handoff { continuation.resume(returning: lease) }
    }

    /// Closes a connection but keeps its slot for the caller.
    private func abandon(_ connection: Connection) {
        state.withLock { _ in connection.handler.closedInPool = true }
        connection.channel.close(promise: nil)
    }

    /// Frees a slot reserved for a connection that could not be opened.
    private func releaseSlot() {
        let handoff = state.withLock { Self.freeSlot(&$0) }
        if let (continuation, lease) = handoff { continuation.resume(returning: lease) }
    }

    private static func freeSlot(_ state: inout PoolState) -> (UnsafeContinuation<Lease, any Error>, Lease)? {
        if !state.shutdown, !state.waiters.isEmpty {
            return (state.waiters.removeFirst().continuation, .connect)
        }
        state.open -= 1
        return nil
    }

    /// The channel of `handler` closed: drop it if it is idle; a connection in use is dropped by its call.
    private func closed(_ handler: ResponseHandler) {
        let handoff = state.withLock { state -> (UnsafeContinuation<Lease, any Error>, Lease)? in
            handler.closedInPool = true
            guard let index = state.idle.firstIndex(where: { $0.handler === handler }) else { return nil }
            state.idle.remove(at: index)
            return Self.freeSlot(&state)
        }
        if let (continuation, lease) = handoff { continuation.resume(returning: lease) }
    }

    // MARK: - URL

    private static func parse(_ url: String) throws -> (host: String, port: Int, path: String, hostHeader: String) {
        func invalid(_ why: String) -> PluginConnectionError {
            PluginConnectionError(kind: .invalidURL, message: "invalid plugin URL \(url): \(why)")
        }
        guard url.lowercased().hasPrefix("http://") else { throw invalid("only http:// URLs are supported") }
        let rest = url.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let fragment = path.firstIndex(of: "#") { path = String(path[..<fragment]) }
        if path.isEmpty || path.first == "?" { path = "/" + path }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty else { throw invalid("no host") }
        let host: String
        var port = 80
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", let value = Int(after.dropFirst()), (1...65535).contains(value) else { throw invalid("bad port") }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else { throw invalid("bad port") }
            port = value
        } else {
            host = String(authority)
        }
        guard !host.isEmpty, !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else { throw invalid("bad host or path") }
        return (host, port, path, String(authority))
    }
}

// MARK: - One connection

private struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var keepAlive: Bool
}

/// A connection, owned by one call at a time (the pool's lock hands it over).
private final class Connection: @unchecked Sendable {
    let channel: any Channel
    /// The channel's event loop.
    let eventLoop: any EventLoop
    let handler: ResponseHandler
    /// Whether a call has used this connection before (so a failure may be a stale keep-alive).
    var reused = false
    private var sequence: UInt64 = 0

    init(channel: any Channel, handler: ResponseHandler) {
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.handler = handler
    }

    nonisolated(nonsending) func execute(_ request: ByteBuffer, deadline: NIODeadline) async throws -> RawResponse {
        sequence &+= 1
        let sequence = self.sequence
        let handler = self.handler
        let eventLoop = self.eventLoop
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RawResponse, any Error>) in
                if eventLoop.inEventLoop {
                    // The caller runs on the connection's loop (see `EventLoopTaskExecutor`): no hop.
                    handler.start(request, sequence: sequence, deadline: deadline, continuation: continuation)
                } else {
                    eventLoop.execute {
                        handler.start(request, sequence: sequence, deadline: deadline, continuation: continuation)
                    }
                }
            }
        } onCancel: {
            eventLoop.execute { handler.cancel(sequence: sequence) }
        }
    }
}

/// Writes one request at a time and parses its response from the raw bytes; lives on its channel's event
/// loop (`closedInPool` is guarded by the pool's lock instead).
private final class ResponseHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxHeadBytes = 64 << 10

    private enum State {
        case idle
        case head
        case fixed(Int)
        case chunkSize
        case chunkData(Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    let maxBody: Int
    let onClose: @Sendable (ResponseHandler) -> Void
    var closedInPool = false

    private var context: ChannelHandlerContext?
    private var state = State.idle
    private var continuation: UnsafeContinuation<RawResponse, any Error>?
    private var sequence: UInt64 = 0
    private var cancelledUpTo: UInt64 = 0
    private var receivedAny = false
    private var isClosed = false
    private var closeError: (any Error)?
    private var buffer: ByteBuffer?
    private var headScanned = 0
    private var status = 0
    private var headers: [(String, String)] = []
    private var keepAlive = true
    private var body = ByteBuffer()
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(maxBody: Int, onClose: @escaping @Sendable (ResponseHandler) -> Void) {
        self.maxBody = maxBody
        self.onClose = onClose
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Requests

    func start(_ request: ByteBuffer, sequence: UInt64, deadline: NIODeadline, continuation: UnsafeContinuation<RawResponse, any Error>) {
        if sequence <= cancelledUpTo {
            continuation.resume(throwing: CancellationError())
            return
        }
        guard !isClosed, let context, self.continuation == nil else {
            continuation.resume(throwing: PluginConnectionError(closedBeforeResponse: "the connection closed before the request was sent"))
            return
        }
        self.continuation = continuation
        self.sequence = sequence
        self.deadline = deadline
        state = .head
        receivedAny = false
        headScanned = 0
        status = 0
        headers = []
        keepAlive = true
        armTimer(context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func cancel(sequence: UInt64) {
        if continuation != nil, self.sequence == sequence {
            fail(CancellationError())
        } else if sequence > cancelledUpTo {
            cancelledUpTo = sequence
        }
    }

    /// One timer per connection, moved lazily: it fires at the deadline it was set for and then checks the
    /// current call's deadline, so calls that end in time cost no timer work.
    private func armTimer(_ eventLoop: any EventLoop) {
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = eventLoop.scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = nil
            guard continuation != nil else { return }
            if self.deadline <= .now() {
                fail(PluginConnectionError(kind: .timeout, message: "no response within the timeout"))
            } else {
                armTimer(eventLoop)
            }
        }
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard continuation != nil else {
            // Bytes nobody asked for: the connection can't be trusted any more.
            context.close(promise: nil)
            return
        }
        receivedAny = true
        if buffer == nil {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        parse()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        timer?.cancel()
        timer = nil
        if continuation != nil {
            if case .untilClose = state {
                keepAlive = false
                complete()
            } else {
                let reason = closeError.map { ": \($0)" } ?? ""
                if receivedAny {
                    fail(PluginConnectionError(kind: .connectionClosed, message: "the connection closed in the middle of the response\(reason)"))
                } else {
                    fail(PluginConnectionError(closedBeforeResponse: "the connection closed before the response arrived\(reason)"))
                }
            }
        }
        buffer = nil
        onClose(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeError == nil { closeError = error }
        context.close(promise: nil)
    }

    // MARK: Parsing

    private func fail(_ error: any Error) {
        state = .idle
        buffer = nil
        body = ByteBuffer()
        let continuation = self.continuation
        self.continuation = nil
        context?.close(promise: nil)
        continuation?.resume(throwing: error)
    }

    private func malformed(_ why: String) {
        fail(PluginConnectionError(kind: .invalidResponse, message: "malformed response: \(why)"))
    }

    private func tooLarge() {
        fail(PluginConnectionError(kind: .responseTooLarge, message: "the response is larger than \(maxBody) bytes"))
    }

    private func complete(_ bytes: [UInt8]? = nil) {
        let payload = bytes ?? (body.readBytes(length: body.readableBytes) ?? [])
        body = ByteBuffer()
        state = .idle
        if let remaining = buffer?.readableBytes, remaining > 0 {
            keepAlive = false  // more bytes than one response
        }
        buffer = nil
        let response = RawResponse(status: status, headers: headers, body: payload, keepAlive: keepAlive)
        headers = []
        let continuation = self.continuation
        self.continuation = nil
        if !keepAlive { context?.close(promise: nil) }
        continuation?.resume(returning: response)
    }

    private func parse() {
        while continuation != nil, buffer != nil {
            switch state {
            case .idle:
                return
            case .head:
                guard parseHead() else { return }
            case .fixed(let length):
                guard buffer!.readableBytes >= length else { return }
                complete(buffer!.readBytes(length: length)!)
            case .chunkSize:
                guard let line = readLine(limit: 1024) else { return }
                let hex = line.split(separator: UInt8(ascii: ";"), maxSplits: 1, omittingEmptySubsequences: false)[0]
                var size = 0
                var digits = 0
                for byte in hex {
                    let digit: Int
                    switch byte {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
                    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
                    case UInt8(ascii: " "), UInt8(ascii: "\t"): continue
                    default: return malformed("bad chunk size")
                    }
                    digits += 1
                    guard digits <= 15 else { return malformed("bad chunk size") }
                    size = size * 16 + digit
                }
                guard digits > 0 else { return malformed("bad chunk size") }
                if size == 0 {
                    state = .trailers
                } else if body.readableBytes + size > maxBody {
                    return tooLarge()
                } else {
                    state = .chunkData(size)
                }
            case .chunkData(let remaining):
                let count = min(remaining, buffer!.readableBytes)
                guard count > 0 else { return }
                var slice = buffer!.readSlice(length: count)!
                body.writeBuffer(&slice)
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining - count)
            case .chunkDataEnd:
                guard buffer!.readableBytes >= 2 else { return }
                guard buffer!.readInteger(as: UInt16.self) == 0x0D0A else { return malformed("no CRLF after chunk data") }
                state = .chunkSize
            case .trailers:
                guard let line = readLine(limit: 8192) else { return }
                if line.isEmpty { complete() }
            case .untilClose:
                guard buffer!.readableBytes > 0 else { return }
                guard body.readableBytes + buffer!.readableBytes <= maxBody else { return tooLarge() }
                body.writeBuffer(&buffer!)
                buffer = nil
                return
            }
            if buffer?.readableBytes == 0 { buffer = nil }
        }
    }

    /// Reads a CRLF-terminated line (without the CRLF); nil when it hasn't all arrived (or, past `limit`, after failing).
    private func readLine(limit: Int) -> [UInt8]? {
        let view = buffer!.readableBytesView
        guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > limit { malformed("line too long") }
            return nil
        }
        let length = lf - view.startIndex
        var line = buffer!.readBytes(length: length + 1)!
        line.removeLast()
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// Parses the status line and headers once they have all arrived; false when more bytes are needed
    /// (or the response failed).
    private func parseHead() -> Bool {
        enum Outcome {
            case needMore(scanned: Int)
            case malformed(String)
            case head(length: Int, status: Int, headers: [(String, String)], contentLength: Int?, chunked: Bool, otherEncoding: Bool, keepAlive: Bool)
        }
        let from = headScanned
        let outcome = buffer!.withUnsafeReadableBytes { bytes -> Outcome in
            let count = bytes.count
            var end = -1
            var i = max(from - 3, 0)
            while i + 3 < count {
                if bytes[i + 3] == 10, bytes[i + 2] == 13, bytes[i + 1] == 10, bytes[i] == 13 {
                    end = i
                    break
                }
                i += 1
            }
            guard end >= 0 else { return .needMore(scanned: count) }
            // Status line: HTTP/1.x SSS reason
            guard end >= 12, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
                  bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/"), bytes[5] == UInt8(ascii: "1"),
                  bytes[6] == UInt8(ascii: "."), bytes[8] == UInt8(ascii: " ")
            else { return .malformed("bad status line") }
            let minor = bytes[7]
            var status = 0
            for k in 9..<12 {
                let d = bytes[k]
                guard d >= 48, d <= 57 else { return .malformed("bad status code") }
                status = status * 10 + Int(d - 48)
            }
            guard end == 12 || bytes[12] == UInt8(ascii: " ") else { return .malformed("bad status line") }
            var keepAlive = minor == UInt8(ascii: "1")
            var headers: [(String, String)] = []
            var contentLength: Int?
            var chunked = false
            var otherEncoding = false
            // Header lines.
            var lineStart = 0
            while lineStart < end, bytes[lineStart] != 10 { lineStart += 1 }
            lineStart += 1
            while lineStart < end + 2 {
                var lineEnd = lineStart
                while bytes[lineEnd] != 10 { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > lineStart, bytes[contentEnd - 1] == 13 { contentEnd -= 1 }
                if contentEnd > lineStart {
                    var colon = lineStart
                    while colon < contentEnd, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                    guard colon < contentEnd, colon > lineStart else { return .malformed("bad header line") }
                    var valueStart = colon + 1
                    while valueStart < contentEnd, bytes[valueStart] == 32 || bytes[valueStart] == 9 { valueStart += 1 }
                    var valueEnd = contentEnd
                    while valueEnd > valueStart, bytes[valueEnd - 1] == 32 || bytes[valueEnd - 1] == 9 { valueEnd -= 1 }
                    let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
                    let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
                    if Self.equalsIgnoringCase(name, "content-length") {
                        var length = 0
                        guard !value.isEmpty, value.count <= 18 else { return .malformed("bad Content-Length") }
                        for d in value {
                            guard d >= 48, d <= 57 else { return .malformed("bad Content-Length") }
                            length = length * 10 + Int(d - 48)
                        }
                        if let contentLength, contentLength != length { return .malformed("conflicting Content-Length") }
                        contentLength = length
                    } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                        if Self.containsIgnoringCase(value, "chunked") { chunked = true } else { otherEncoding = true }
                    } else if Self.equalsIgnoringCase(name, "connection") {
                        if Self.containsIgnoringCase(value, "close") {
                            keepAlive = false
                        } else if Self.containsIgnoringCase(value, "keep-alive") {
                            keepAlive = true
                        }
                    }
                    headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
                }
                lineStart = lineEnd + 1
            }
            return .head(length: end + 4, status: status, headers: headers, contentLength: contentLength, chunked: chunked, otherEncoding: otherEncoding, keepAlive: keepAlive)
        }
        switch outcome {
        case .needMore(let scanned):
            headScanned = scanned
            if scanned > Self.maxHeadBytes { malformed("response head larger than \(Self.maxHeadBytes) bytes") }
            return false
        case .malformed(let why):
            malformed(why)
            return false
        case .head(let length, let status, let headers, let contentLength, let chunked, let otherEncoding, let keepAlive):
            buffer!.moveReaderIndex(forwardBy: length)
            headScanned = 0
            if status >= 100, status < 200, status != 101 {
                return true  // interim response: the real one follows
            }
            self.status = status
            self.headers = headers
            self.keepAlive = keepAlive
            if status == 204 || status == 304 || (status >= 100 && status < 200) {
                complete([])
            } else if chunked, !otherEncoding {
                state = .chunkSize
            } else if otherEncoding || contentLength == nil {
                self.keepAlive = false
                state = .untilClose
            } else if let contentLength {
                if contentLength > maxBody {
                    tooLarge()
                    return false
                }
                if contentLength == 0 { complete([]) } else { state = .fixed(contentLength) }
            }
            return true
        }
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for i in 0..<bytes.count where bytes[i] | 0x20 != expected[i] {
            return false
        }
        return true
    }

    private static func containsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        let n = lowercase.utf8CodeUnitCount
        guard bytes.count >= n else { return false }
        let expected = lowercase.utf8Start
        outer: for start in 0...(bytes.count - n) {
            for i in 0..<n where bytes[start + i] | 0x20 != expected[i] {
                continue outer
            }
            return true
        }
        return false
    }
}
