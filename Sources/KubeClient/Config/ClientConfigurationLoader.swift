import Foundation

/// Finds client configuration the way a controller should.
///
/// Lookup order (the first that applies is used; later ones are not consulted):
/// 1. `explicitPath` (a `--kubeconfig` flag): that file; it must exist.
/// 2. `KUBECONFIG`: the `:`-separated files, merged as kubectl merges them.
///    Missing files in the list are skipped; if none exists, that is an error.
/// 3. In-cluster: when `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` are
///    set, the mounted service account. Skipped when a `context` is requested,
///    since a context only means something in a kubeconfig.
/// 4. `~/.kube/config`.
/// If none applies, `KubeconfigError.noConfiguration` lists what was looked at.
public enum ClientConfigurationLoader {
    public static func load(
        explicitPath: String? = nil,
        context: String? = nil,
        environment: ConfigEnvironment = .current,
        execTimeout: Duration = .seconds(60)
    ) throws(KubeconfigError) -> ClientConfiguration {
        if let explicitPath, !explicitPath.isEmpty {
            return try KubeconfigLoader.load(path: explicitPath)
                .clientConfiguration(context: context, environment: environment, execTimeout: execTimeout)
        }
        if let list = environment.variables["KUBECONFIG"], !KubeconfigLoader.splitPathList(list).isEmpty {
            return try KubeconfigLoader.load(paths: KubeconfigLoader.splitPathList(list))
                .clientConfiguration(context: context, environment: environment, execTimeout: execTimeout)
        }
        if context == nil, InClusterConfig.isAvailable(in: environment) {
            return try InClusterConfig.load(environment: environment)
        }
        let home = environment.defaultKubeconfigPath
        if FileManager.default.fileExists(atPath: home) {
            return try KubeconfigLoader.load(path: home)
                .clientConfiguration(context: context, environment: environment, execTimeout: execTimeout)
        }
        var searched = ["KUBECONFIG (unset)"]
        searched.append(context == nil ? "in-cluster (KUBERNETES_SERVICE_HOST/PORT unset)" : "in-cluster (skipped: context requested)")
        searched.append(home)
        throw .noConfiguration(searched: searched)
    }
}
