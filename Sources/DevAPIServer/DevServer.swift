import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KubeCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The in-memory Kubernetes API server, as a `Service`: run it in a
/// `ServiceGroup` (or call `run()`), read `address` once `ready` returns.
///
/// A development and test tool: no scheduler, no controllers but garbage
/// collection, namespace cleanup and CRD establishment, no persistence.
public final class DevServer: Service, Sendable {
    public struct Configuration: Sendable {
        public enum TLSMode: Sendable {
            /// Plain HTTP.
            case none
            /// HTTPS with a CA and serving certificate made at start (see `certificateAuthority`).
            case generated
            /// HTTPS with the given PEM certificate chain and key.
            case provided(certificateChainPEM: String, privateKeyPEM: String)
        }

        /// Address to bind; loopback unless told otherwise.
        public var host: String = "127.0.0.1"
        /// Port; 0 picks a free one.
        public var port: Int = 0
        public var tls: TLSMode = .generated
        public var authentication = Authentication()
        /// Requests with a larger body get 413, as kube-apiserver's 3 MiB limit.
        public var maxBodySize: Int = 3 * 1024 * 1024
        /// How often watches that allow bookmarks get one. kube-apiserver sends
        /// them about once a minute; a shorter period makes tests quicker.
        public var bookmarkInterval: Duration = .seconds(10)
        public var store = ObjectStore.Configuration()

        public init() {}
    }

    public let configuration: Configuration
    public let store: ObjectStore
    public let faults = FaultInjector()
    /// The CA behind the serving certificate, when `tls` is `.generated`.
    public let certificateAuthority: CertificateAuthority?
    let logger: Logger
    private let boundAddress = Mutex<String?>(nil)
    private let readyWaiters = Mutex<[CheckedContinuation<String, any Error>]>([])

    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "plugboard.devserver")) throws {
        self.configuration = configuration
        self.store = ObjectStore(configuration: configuration.store)
        self.logger = logger
        if case .generated = configuration.tls {
            self.certificateAuthority = try CertificateAuthority()
        } else {
            self.certificateAuthority = nil
        }
    }

    public var isTLS: Bool {
        if case .none = configuration.tls { return false }
        return true
    }

    /// The base URL clients use, e.g. `https://127.0.0.1:6443`, once bound.
    public var url: String? {
        boundAddress.withLock { $0 }.map { "\(isTLS ? "https" : "http")://\($0)" }
    }

    /// Waits until the server listens, and returns its base URL.
    public func ready() async throws -> String {
        if let url { return url }
        return try await withCheckedThrowingContinuation { continuation in
            let resumeNow: String? = readyWaiters.withLock { waiters in
                if let url = self.url { return url }
                waiters.append(continuation)
                return nil
            }
            if let resumeNow { continuation.resume(returning: resumeNow) }
        }
    }

    public func run() async throws {
        let responder = APIResponder(store: store, faults: faults, authentication: configuration.authentication,
                                     serverAddress: { [weak self] in self?.boundAddress.withLock { $0 } ?? "" },
                                     maxBodySize: configuration.maxBodySize, logger: logger)
        let server: HTTPServerBuilder
        switch configuration.tls {
        case .none:
            server = .http1()
        case .generated:
            let issued = try certificateAuthority!.issueServerCertificate(dnsNames: ["localhost", "plugboard-dev"],
                                                                         ipAddresses: ["127.0.0.1", "::1", configuration.host])
            server = try .tls(.http1(), tlsConfiguration: try tlsConfiguration(chain: issued.certificatePEM, key: issued.privateKeyPEM))
        case .provided(let chain, let key):
            server = try .tls(.http1(), tlsConfiguration: try tlsConfiguration(chain: chain, key: key))
        }
        let app = Application(
            responder: responder, server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "plugboard-dev"),
            onServerRunning: { [weak self] channel in
                guard let self, let address = channel.localAddress, let port = address.port else { return }
                let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? self.configuration.host
                self.boundAddress.withLock { $0 = "\(host):\(port)" }
                let url = self.url!
                self.logger.info("dev API server listening", metadata: ["url": "\(url)"])
                let waiters = self.readyWaiters.withLock { w in defer { w = [] }; return w }
                for waiter in waiters { waiter.resume(returning: url) }
            },
            logger: logger
        )
        let bookmarkInterval = configuration.bookmarkInterval
        // Open watches would hold graceful shutdown forever: end them when it starts.
        try await withGracefulShutdownHandler {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: bookmarkInterval)
                    self.store.sendBookmarks()
                }
            }
            // Signals belong to the ServiceGroup that runs this service, not to Hummingbird's inner one.
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            try await group.next()
            group.cancelAll()
        }
        } onGracefulShutdown: {
            self.store.cutAllWatches()
        }
        let waiters = readyWaiters.withLock { w in defer { w = [] }; return w }
        for waiter in waiters { waiter.resume(throwing: CancellationError()) }
    }

    private func tlsConfiguration(chain: String, key: String) throws -> TLSConfiguration {
        let certificates = try NIOSSLCertificate.fromPEMBytes(Array(chain.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: certificates,
                                                           privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
        // Do not wait long for a peer's close_notify when shutting down (the default is 5 s).
        tls.shutdownTimeout = .milliseconds(250)
        if let clientCA = configuration.authentication.clientCAPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(clientCA.utf8)))
            tls.certificateVerification = .optionalVerification
        }
        return tls
    }
}
