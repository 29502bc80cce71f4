import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP request to the API server.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    /// Absolute path below the server URL, e.g. `/api/v1/namespaces/default/pods`.
    public var path: String
    public var query: [(String, String)]
    public var body: [UInt8]?
    public var contentType: String?
    public var accept = "application/json"

    public init(method: HTTPMethod, path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.contentType = contentType
    }

    /// Requests the server may receive twice without harm.
    var isIdempotent: Bool { method == .GET || method == .HEAD }

    /// A page after the first of a paginated LIST (a GET with a continue token). It takes no token of the
    /// client-side rate limit: the list took one when it began, and throttling its pages would turn
    /// one initial sync of 100,000 objects (200 pages) into seconds of waiting.
    var isListContinuation: Bool { method == .GET && query.contains { $0.0 == "continue" && !$0.1.isEmpty } }
}

public struct APIResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
}

/// The HTTP layer of the client: pooled keep-alive connections (HTTP/2 when the
/// server offers it over TLS), TLS with custom CAs and client certificates,
/// a token-bucket rate limit, honest handling of 429 and `Retry-After`, retries
/// of GETs after connection failures, and gzip.
public final class Transport: Sendable {
    public let configuration: TransportConfiguration
    let client: HTTPClient
    let limiter: TokenBucket
    let base: String
    let logger: Logger
    let metrics = APIClientMetrics()

    public init(_ configuration: TransportConfiguration, limiterClock: any LimiterClock = SystemLimiterClock(),
                logger: Logger = Logger(label: "plugboard.kubeclient")) throws
    {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = configuration.certificateAuthorityPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.utf8)))
        }
        if let cert = configuration.clientCertificatePEM, let key = configuration.clientKeyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(cert.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        }
        if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var http = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                            timeout: .init(connect: .init(configuration.connectTimeout), read: .init(configuration.readIdleTimeout)),
                                            decompression: .enabled(limit: .ratio(100)))
        http.httpVersion = .automatic
        var base = configuration.server.hasSuffix("/") ? String(configuration.server.dropLast()) : configuration.server
        guard var components = URLComponents(string: base), let host = components.host, components.scheme != nil else {
            throw TransportSetupError(message: "server \"\(configuration.server)\" is not an absolute URL")
        }
        if let serverName = configuration.tlsServerName, serverName != host {
            // Address the server by the certificate's name, and resolve that name to the real host.
            http.dnsOverride[serverName] = host
            components.host = serverName
            base = components.string ?? base
        }
        if let proxy = configuration.proxyURL {
            guard let url = URLComponents(string: proxy), let proxyHost = url.host, let port = url.port else {
                throw TransportSetupError(message: "proxy-url \"\(proxy)\" must be scheme://host:port")
            }
            switch url.scheme {
            case "http", "https": http.proxy = .server(host: proxyHost, port: port)
            case "socks5": http.proxy = .socksServer(host: proxyHost, port: port)
            default: throw TransportSetupError(message: "proxy-url \"\(proxy)\": scheme must be http, https or socks5")
            }
        }
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        self.configuration = configuration
        self.limiter = TokenBucket(qps: configuration.qps, burst: configuration.burst, clock: limiterClock)
        self.base = base
        self.logger = logger
    }

    public func shutdown() async throws { try await client.shutdown() }

    /// Sends a request and returns the response, or throws `KubeAPIError` for an
    /// error status. Retries as described on the type.
    public func send(_ request: APIRequest, maxBodySize: Int = 1 << 30) async throws -> APIResponse {
        try await withRetries(request) { httpRequest in
            let response = try await client.execute(httpRequest, timeout: .init(configuration.requestTimeout))
            return (APIResponse(status: Int(response.status.code), headers: response.headers,
                                body: try await Self.collect(response, upTo: maxBodySize)), ())
        }.0
    }

    /// The whole body, copied once from the fragments into an array reserved at the announced
    /// length (a list page is hundreds of kilobytes: gathering it in a growing `ByteBuffer` and then
    /// copying that out costs two more copies). More than `limit` bytes is `NIOTooManyBytesError`.
    static func collect(_ response: HTTPClientResponse, upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length >= 0 {
            guard length <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
            bytes.reserveCapacity(length)
        }
        for try await fragment in response.body {
            guard fragment.readableBytes <= limit - bytes.count else { throw NIOTooManyBytesError(maxBytes: limit) }
            fragment.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Opens a streaming response (a watch) and returns its status and AsyncHTTPClient's body, which
    /// reads from the connection only as fast as it is consumed: a consumer that falls behind then gets
    /// larger chunks rather than a growing queue of small ones. The stream ends when the server closes
    /// it; cancel the consuming task to close it from this side.
    func openStream(_ request: APIRequest) async throws -> (status: Int, body: HTTPClientResponse.Body) {
        let response = try await withRetries(request) { httpRequest in
            let response = try await client.execute(httpRequest, timeout: .init(configuration.requestTimeout))
            if response.status.code >= 400 {
                let body = try await response.body.collect(upTo: 1 << 20)
                return (APIResponse(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView)), nil as HTTPClientResponse?)
            }
            return (APIResponse(status: Int(response.status.code), headers: response.headers, body: []), response)
        }
        guard let http = response.1 else { preconditionFailure("withRetries returns only successful responses") }
        return (response.0.status, http.body)
    }

    func url(for request: APIRequest) -> String {
        var url = base + request.path
        if !request.query.isEmpty {
            url += "?" + request.query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        return url
    }

    static let queryAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()

    static func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? s }

    private func makeHTTPRequest(_ request: APIRequest) async throws -> HTTPClientRequest {
        var http = HTTPClientRequest(url: url(for: request))
        http.method = request.method
        http.headers.add(name: "User-Agent", value: configuration.userAgent)
        http.headers.add(name: "Accept", value: request.accept)
        if let body = request.body {
            http.headers.add(name: "Content-Type", value: request.contentType ?? "application/json")
            http.headers.add(name: "Content-Length", value: String(body.count))
            http.body = .bytes(ByteBuffer(bytes: body))
        }
        let credential: Credential
        switch configuration.credentials {
        case .fixed(let fixed): credential = fixed
        case .dynamic(let current, _): credential = try await current()
        }
        switch credential {
        case .none: break
        case .bearer(let token): http.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .basic(let user, let password):
            http.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        }
        return http
    }

    /// The retry policy shared by plain and streaming requests. `execute` returns
    /// the response (with its body read when it is an error) and whatever the
    /// caller needs besides; only a successful response is returned.
    private func withRetries<Extra: Sendable>(_ request: APIRequest,
                                              _ execute: (HTTPClientRequest) async throws -> (APIResponse, Extra)) async throws -> (APIResponse, Extra)
    {
        var attempt = 0
        var reauthenticated = false
        let verb = APIClientMetrics.verb(of: request)
        while true {
            if !request.isListContinuation { try await limiter.wait() }
            let result: (APIResponse, Extra)
            let start = ContinuousClock.now
            do {
                result = try await execute(try await makeHTTPRequest(request))
                metrics.record(verb: verb, code: String(result.0.status), since: start)
            } catch {
                if !(error is CancellationError) && !Task.isCancelled { metrics.record(verb: verb, code: "error", since: start) }
                guard request.isIdempotent && attempt < configuration.maxRetries && Self.mayRetry(error) else { throw error }
                attempt += 1
                logger.debug("retrying after a connection failure", metadata: ["path": "\(request.path)", "attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(min(1000, 50 << min(attempt, 5))))
                continue
            }
            let response = result.0
            if response.status < 400 { return result }
            if response.status == 401, case .dynamic(_, let invalidate) = configuration.credentials, !reauthenticated {
                reauthenticated = true
                await invalidate()
                continue
            }
            let retryAfter = response.headers.first(name: "Retry-After")
            if let seconds = retryAfter.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
               response.status == 429 || (500...599).contains(response.status), attempt < configuration.maxRetries
            {
                attempt += 1
                logger.debug("server asked to retry", metadata: ["path": "\(request.path)", "status": "\(response.status)", "after": "\(seconds)s"])
                try await Task.sleep(for: .seconds(max(0, min(seconds, 60))))
                continue
            }
            throw KubeAPIError(statusCode: response.status, body: response.body, retryAfterHeader: retryAfter)
        }
    }

    /// Transport failures worth another try for an idempotent request: not
    /// cancellation, not an answer from the server.
    static func mayRetry(_ error: any Error) -> Bool {
        if error is CancellationError || error is KubeAPIError || Task.isCancelled { return false }
        // A body over the limit would be over it again.
        if error is NIOTooManyBytesError { return false }
        if let http = error as? HTTPClientError, http == .cancelled || http == .deadlineExceeded { return false }
        return true
    }
}
