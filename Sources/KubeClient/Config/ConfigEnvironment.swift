import Foundation

/// The parts of the process environment that configuration loading reads.
/// Injectable so tests need not touch the real environment or home directory.
public struct ConfigEnvironment: Sendable {
    /// Environment variables (`KUBECONFIG`, `KUBERNETES_SERVICE_HOST`, ...).
    /// Also the base environment exec credential plugins run with.
    public var variables: [String: String]
    /// The home directory; `~/.kube/config` is looked up under it.
    public var homeDirectory: String
    /// Where the service account token, CA and namespace are mounted in a pod.
    public var serviceAccountDirectory: String

    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(
        variables: [String: String],
        homeDirectory: String,
        serviceAccountDirectory: String = ConfigEnvironment.defaultServiceAccountDirectory
    ) {
        self.variables = variables
        self.homeDirectory = homeDirectory
        self.serviceAccountDirectory = serviceAccountDirectory
    }

    /// The real process environment and home directory.
    public static var current: ConfigEnvironment {
        let vars = ProcessInfo.processInfo.environment
        let home = vars["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return ConfigEnvironment(variables: vars, homeDirectory: home)
    }

    /// `~/.kube/config` under `homeDirectory`.
    public var defaultKubeconfigPath: String {
        (homeDirectory as NSString).appendingPathComponent(".kube/config")
    }
}
