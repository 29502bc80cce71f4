import Logging
import Observability
import PluginHost
import Prometheus
import Synchronization

enum ObservabilityOptions {
    /// Loopback by default: the dashboard has no authentication.
    static let defaultAddress = "127.0.0.1:8080"

    static func makeServer(address: String, fallbackToFreePort: Bool = false, registry: MetricsRegistry, plugins: [String],
                           readiness: @escaping @Sendable () -> Readiness, logger: Logger) throws -> ObservabilityServer {
        let listen = try ListenAddress(address, flag: "--metrics-address")
        return ObservabilityServer(configuration: .init(host: listen.host, port: listen.port, fallbackToFreePort: fallbackToFreePort), registry: registry,
                                   sampler: DashboardSampler(registry: registry, plugins: plugins), readiness: readiness, logger: logger)
    }
}

/// The plugin host of `plugboard dev`, once made: the observability server
/// starts before the host exists (the dev API server must answer first).
final class HostSlot: Sendable {
    private let host = Mutex<PluginHost?>(nil)

    func set(_ host: PluginHost) { self.host.withLock { $0 = host } }

    func readiness() -> Readiness {
        host.withLock { $0 }?.readiness() ?? Readiness(ready: false, reasons: ["waiting for the dev API server"])
    }
}
