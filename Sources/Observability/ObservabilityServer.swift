import Foundation
import Hummingbird
import Logging
import NIOCore
import PluginHost
import Prometheus
import ServiceLifecycle
import Synchronization

/// The host's own HTTP server: `/metrics` (Prometheus text format), `/healthz`,
/// `/readyz`, and the live dashboard at `/` with its JSON at `/dashboard.json`.
///
/// It binds to loopback unless told otherwise: the dashboard has no
/// authentication, and `/metrics` names plugins and resources.
public final class ObservabilityServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port; `boundAddress` tells which.
        public var port = 8080
        /// When `port` is taken, listen on a free port instead (with a warning) rather than fail:
        /// for `plugboard dev` without an explicit address, where a busy 8080 must not stop the demo.
        public var fallbackToFreePort = false

        public init(host: String = "127.0.0.1", port: Int = 8080, fallbackToFreePort: Bool = false) {
            self.host = host
            self.port = port
            self.fallbackToFreePort = fallbackToFreePort
        }
    }

    public let configuration: Configuration
    public let registry: MetricsRegistry
    public let sampler: DashboardSampler
    let readiness: @Sendable () -> Readiness
    let logger: Logger
    private let bound = Mutex<(address: String?, waiters: [CheckedContinuation<String, any Error>])>((nil, []))

    /// - Parameter readiness: what `/readyz` and the page report; asked on each request.
    public init(configuration: Configuration, registry: MetricsRegistry, sampler: DashboardSampler,
                readiness: @escaping @Sendable () -> Readiness, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.sampler = sampler
        self.readiness = readiness
        self.logger = logger
    }

    /// `HOST:PORT` once listening.
    public var boundAddress: String? { bound.withLock { $0.address } }

    /// Waits until the server listens, and returns `HOST:PORT`.
    public func ready() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let now = bound.withLock { state -> String? in
                if let address = state.address { return address }
                state.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    public func run() async throws {
        defer {
            // Whoever still waits for the address gets none.
            let waiters = bound.withLock { state in defer { state.waiters = [] }; return state.waiters }
            for waiter in waiters { waiter.resume(throwing: CancellationError()) }
        }
        // One sampler for the server's life, whichever port it ends up on (a second start would take two
        // samples moments apart, and rates divide by that gap).
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.sampler.run() }
            group.addTask { [self] in
                do {
                    try await serve(port: configuration.port)
                } catch let error as ListenError where configuration.fallbackToFreePort && configuration.port != 0 {
                    logger.warning("metrics address taken; listening on a free port instead", metadata: ["wanted": "\(error.address)", "error": "\(error.underlying)"])
                    try await serve(port: 0)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func serve(port: Int) async throws {
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: port), serverName: "plugboard"),
            onServerRunning: { [self] channel in
                guard let address = channel.localAddress, let port = address.port else { return }
                let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? configuration.host
                let text = "\(host):\(port)"
                let waiters = bound.withLock { state in
                    state.address = text
                    defer { state.waiters = [] }
                    return state.waiters
                }
                logger.info("metrics, health and dashboard server listening", metadata: ["address": "\(text)", "dashboard": "http://\(text)/"])
                for waiter in waiters { waiter.resume(returning: text) }
            },
            logger: logger
        )
        // Signals belong to the ServiceGroup that runs this service.
        do {
            try await app.runService(gracefulShutdownSignals: [])
        } catch where boundAddress == nil && !(error is CancellationError) {
            throw ListenError(address: "\(configuration.host):\(port)", underlying: "\(error)")
        }
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let registry = self.registry, sampler = self.sampler, readiness = self.readiness
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ in
            Self.text(.ok, "ok\n")
        }
        router.get("/readyz") { _, _ in
            let state = readiness()
            if state.ready { return Self.text(.ok, "ok\n") }
            return Self.text(.serviceUnavailable, "not ready:\n" + state.reasons.map { "- \($0)\n" }.joined())
        }
        router.get("/dashboard.json") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = try encoder.encode(sampler.document(readiness: readiness()))
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/") { _, _ in
            Response(status: .ok, headers: Self.pageHeaders, body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        return router
    }

    /// The page is self-contained: the policy lets it load nothing but its own JSON.
    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .contentSecurityPolicy: "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
    ]

    /// The server could not listen (a port in use, an address not on this machine).
    public struct ListenError: Error, CustomStringConvertible {
        public var address: String
        public var underlying: String
        public var description: String { "cannot serve metrics, health and the dashboard on \(address) (--metrics-address): \(underlying)" }
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
