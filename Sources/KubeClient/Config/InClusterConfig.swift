import Foundation

/// Configuration for a process running in a pod, from the service account
/// Kubernetes mounts into it.
public enum InClusterConfig {
    /// Whether `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` are both set.
    public static func isAvailable(in environment: ConfigEnvironment) -> Bool {
        !(environment.variables["KUBERNETES_SERVICE_HOST"] ?? "").isEmpty
            && !(environment.variables["KUBERNETES_SERVICE_PORT"] ?? "").isEmpty
    }

    /// Builds the configuration: server `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
    /// CA from `ca.crt`, namespace from `namespace` (or "default"), and the `token`
    /// file as a `TokenFileSource`, so a rotated token is picked up.
    public static func load(environment: ConfigEnvironment = .current) throws(KubeconfigError) -> ClientConfiguration {
        guard let host = environment.variables["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw .notInCluster(missingVariable: "KUBERNETES_SERVICE_HOST")
        }
        guard let port = environment.variables["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw .notInCluster(missingVariable: "KUBERNETES_SERVICE_PORT")
        }
        let directory = environment.serviceAccountDirectory as NSString
        let tokenPath = directory.appendingPathComponent("token")
        let caPath = directory.appendingPathComponent("ca.crt")
        let namespacePath = directory.appendingPathComponent("namespace")

        let tokenSource = TokenFileSource(path: tokenPath)
        _ = try tokenSource.token()  // fail now, not on the first request, if there is no token
        let ca = try KubeconfigLoader.readText(caPath)
        var namespace = "default"
        if FileManager.default.fileExists(atPath: namespacePath) {
            let text = try KubeconfigLoader.readText(namespacePath).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { namespace = text }
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host  // IPv6
        let serverText = "https://\(hostPart):\(port)"
        guard let server = URL(string: serverText) else {
            throw .invalidURL(path: "environment", field: "KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT", value: serverText)
        }
        return ClientConfiguration(
            server: server, namespace: namespace, certificateAuthorityPEM: ca,
            authentication: .tokenFile(tokenSource), source: "in-cluster (\(environment.serviceAccountDirectory))")
    }
}
