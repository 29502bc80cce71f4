import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PluginConfig
import Synchronization

/// How a plugin call ended.
public enum CallOutcome: Sendable {
    case response(PluginResponse)
    /// 429: call again after this long; not a failure.
    case throttled(retryAfter: Duration)
    case failed(CallFailure)
}

/// Why a plugin call failed. `kind` is bounded (a metric label); `message` is for logs and events.
public struct CallFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case error
        case timeout
        case invalidResponse = "invalid_response"
        case unreachable
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// One plugin's HTTP client: its own connection pool, sized to its workers, so
/// a slow plugin holds only its own connections.
public final class PluginClient: Sendable {
    public let name: String
    let http: HTTPClient
    let reconcileURL: @Sendable () -> String
    let timeout: Duration
    let auth: PluginAuth?
    /// Sent as `Authorization: Bearer` when the config has no `auth`: the token the
    /// host gave a supervised plugin.
    let bearerToken: String?
    let workers: Int
    /// The headers of every call, and `Authorization` when a bearer token replaces `auth`.
    let fixedHeaders: [(String, String)]
    /// `fixedHeaders`, encoded once: what a call without `auth` sends.
    let encodedFixedHeaders: PluginConnectionPool.EncodedHeaders
    private let plainPool = Mutex<(url: String, pool: PluginConnectionPool)?>(nil)
    /// `auth.tokenEnv`'s value, read once at start (the host's environment does not change).
    let environmentToken: String?
    /// `auth.tokenFile`'s token: read at start, then again by `tokenRefresher`. A failure stays only
    /// until a good token has been read once; after that a failed read keeps the last good token.
    private let fileToken = Mutex<Result<String, CallFailure>>(
        .failure(CallFailure(kind: .error, message: "the token file has not been read yet")))
    /// How often the token file is read again; a tenth of it while no good token has been read.
    let tokenRefresh: Duration
    /// Reads the token file every `tokenRefresh`, on NIO's blocking thread pool; ended by `shutdown()`.
    private let tokenRefresher = Mutex<Task<Void, Never>?>(nil)

    /// - Parameter reconcileURL: where to POST; a closure because a supervised
    ///   plugin's port is known only once it has started.
    public init(spec: PluginSpec, reconcileURL: @escaping @Sendable () -> String, bearerToken: String? = nil,
                tokenRefresh: Duration = .seconds(60)) throws {
        self.name = spec.name
        self.tokenRefresh = tokenRefresh
        if case .environment(let variable) = spec.auth?.token {
            environmentToken = ProcessInfo.processInfo.environment[variable]
        } else {
            environmentToken = nil
        }
        self.bearerToken = bearerToken
        self.workers = max(spec.workers, 1)
        self.reconcileURL = reconcileURL
        self.timeout = spec.timeout
        self.auth = spec.auth
        var fixedHeaders = [("Content-Type", "application/json"), ("Plugboard-Protocol", "v1alpha1")]
        if spec.auth == nil, let bearerToken { fixedHeaders.append(("Authorization", "Bearer \(bearerToken)")) }
        self.fixedHeaders = fixedHeaders
        self.encodedFixedHeaders = PluginConnectionPool.EncodedHeaders(fixedHeaders)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(spec.workers, 1)
        configuration.timeout.connect = .seconds(2)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        if case .url(let endpoint) = spec.endpoint, endpoint.url.scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            if endpoint.insecureSkipTLSVerify {
                tls.certificateVerification = .none
            } else if let caFile = endpoint.caFile {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile.resolved))
            }
            configuration.tlsConfiguration = tls
        }
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        if case .file(let path) = spec.auth?.token {
            store(Self.readToken(path))  // at start, not on an event loop
            let task = Task.detached(priority: .utility) { [weak self, tokenRefresh] in
                while !Task.isCancelled {
                    let good = self?.hasGoodToken ?? false
                    try? await Task.sleep(for: good ? tokenRefresh : tokenRefresh / 10)
                    if Task.isCancelled { return }
                    // A read that hangs (a stuck network mount) holds a thread of the blocking pool, not a worker's.
                    guard let read = try? await NIOThreadPool.singleton.runIfActive({ Self.readToken(path) }) else { return }
                    guard let self else { return }
                    self.store(read)
                }
            }
            tokenRefresher.withLock { $0 = task }
        }
    }

    /// The executors the plugin's workers run on: one per event loop of the connection pool's group
    /// (empty: the global executor).
    public var workerExecutors: [EventLoopTaskExecutor] { EventLoopTaskExecutor.singletonLoops }

    public func shutdown() async throws {
        tokenRefresher.withLock { $0 }?.cancel()
        if let pool = plainPool.withLock({ $0?.pool }) { await pool.shutdown() }
        try await http.shutdown()
    }

    /// POSTs one reconcile request and classifies the answer. Plain-HTTP
    /// endpoints (every supervised plugin, every loopback URL) go through
    /// `PluginConnectionPool`, about 4.5× cheaper per call than
    /// AsyncHTTPClient; https endpoints through AsyncHTTPClient.
    ///
    /// Runs on the caller's executor (`nonisolated(nonsending)`): see `PluginController.reconcile(_:)`.
    public nonisolated(nonsending) func call(_ body: [UInt8]) async -> CallOutcome {
        let url = reconcileURL()
        var headers = fixedHeaders
        if let auth {
            do {
                if let value = try currentToken(auth) {
                    headers.append((auth.header, auth.scheme.map { "\($0) \(value)" } ?? value))
                } else if let bearerToken {
                    headers.append(("Authorization", "Bearer \(bearerToken)"))
                }
            } catch {
                return .failed(CallFailure(kind: .error, message: "cannot read the plugin's token: \(error)"))
            }
        }
        if url.hasPrefix("http://") {
            return await callPlain(url, body, headers: auth == nil ? encodedFixedHeaders : PluginConnectionPool.EncodedHeaders(headers))
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Content-Length", value: String(body.count))
        request.body = .bytes(ByteBuffer(bytes: body))
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await http.execute(request, deadline: deadline)
            let bytes = try await response.body.collect(upTo: PluginResponse.maxBodyBytes)
            return classify(status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"),
                            payload: Array(bytes.readableBytesView))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .failed(CallFailure(kind: .timeout, message: "no answer within \(timeout)"))
        } catch let error as NIOTooManyBytesError {
            return .failed(CallFailure(kind: .invalidResponse, message: "the response is larger than \(PluginResponse.maxBodyBytes) bytes (\(error))"))
        } catch is CancellationError {
            return .failed(CallFailure(kind: .error, message: "cancelled"))
        } catch {
            return .failed(CallFailure(kind: .unreachable, message: "cannot reach the plugin: \(error)"))
        }
    }

    /// What an answer means: 200 is parsed, 429 is a throttle, anything else a failure.
    func classify(status: Int, retryAfter: String?, payload: [UInt8]) -> CallOutcome {
        switch status {
        case 200:
            do {
                return .response(try PluginResponse.parse(payload))
            } catch {
                return .failed(CallFailure(kind: .invalidResponse, message: "invalid response: \(error)"))
            }
        case 429:
            let seconds = retryAfter.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? 1
            return .throttled(retryAfter: .milliseconds(Int64(min(max(seconds, 0), 3600) * 1000)))
        default:
            let text = String(decoding: payload.prefix(200), as: UTF8.self)
            return .failed(CallFailure(kind: .error, message: "the plugin answered \(status)\(text.isEmpty ? "" : ": \(text)")"))
        }
    }

    /// The pool for `url`, made anew if the URL changed.
    private func pool(for url: String) throws -> PluginConnectionPool {
        try plainPool.withLock { cached in
            if let cached, cached.url == url { return cached.pool }
            let pool = try PluginConnectionPool(url: url, connections: workers, maxResponseBytes: PluginResponse.maxBodyBytes)
            if let old = cached?.pool { Task { await old.shutdown() } }
            cached = (url, pool)
            return pool
        }
    }

    private nonisolated(nonsending) func callPlain(_ url: String, _ body: [UInt8], headers: PluginConnectionPool.EncodedHeaders) async -> CallOutcome {
        do {
            let response = try await pool(for: url).post(body, headers: headers, timeout: timeout)
            // Retry-After matters only for a 429: the headers are not searched otherwise.
            let retryAfter = response.status == 429 ? response.headers.first { $0.0.lowercased() == "retry-after" }?.1 : nil
            return classify(status: response.status, retryAfter: retryAfter, payload: response.body)
        } catch let error as PluginConnectionError {
            switch error.kind {
            case .timeout: return .failed(CallFailure(kind: .timeout, message: "no answer within \(timeout)"))
            case .responseTooLarge:
                return .failed(CallFailure(kind: .invalidResponse, message: "the response is larger than \(PluginResponse.maxBodyBytes) bytes"))
            case .invalidResponse: return .failed(CallFailure(kind: .invalidResponse, message: "invalid response: \(error)"))
            case .connectFailed, .connectionClosed: return .failed(CallFailure(kind: .unreachable, message: "cannot reach the plugin: \(error)"))
            case .invalidURL, .shutdown: return .failed(CallFailure(kind: .error, message: "\(error)"))
            }
        } catch is CancellationError {
            return .failed(CallFailure(kind: .error, message: "cancelled"))
        } catch {
            return .failed(CallFailure(kind: .unreachable, message: "cannot reach the plugin: \(error)"))
        }
    }

    /// The token from its variable, or from its file as last read. A call never reads the file: it
    /// runs on an event loop, where a read would hold up every connection of the loop. The file is
    /// read at start and then every `tokenRefresh` (a minute) in the background, so a rotated token
    /// is sent within about a minute, however rarely the plugin is called.
    private func currentToken(_ auth: PluginAuth) throws(CallFailure) -> String? {
        switch auth.token {
        case .environment:
            return environmentToken
        case .file:
            return try fileToken.withLock { $0 }.get()
        }
    }

    /// Whether a token has been read from the file (so a failed read would keep it).
    private var hasGoodToken: Bool {
        if case .success = fileToken.withLock({ $0 }) { return true }
        return false
    }

    /// Takes a read of the token file: a good token replaces the last one; a failure replaces
    /// only a failure (a file caught half written, or briefly gone, does not stop the calls).
    private func store(_ read: Result<String, CallFailure>) {
        fileToken.withLock { current in
            if case .failure = read, case .success = current { return }
            current = read
        }
    }

    /// The token in the file, trimmed; an empty file is an error.
    static func readToken(_ path: ResolvedPath) -> Result<String, CallFailure> {
        do {
            let text = try String(contentsOfFile: path.resolved, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? .failure(CallFailure(kind: .error, message: "token file \(path.written) is empty")) : .success(text)
        } catch {
            return .failure(CallFailure(kind: .error, message: "cannot read token file \(path.written): \(error.localizedDescription)"))
        }
    }
}
