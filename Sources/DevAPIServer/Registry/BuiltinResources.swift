import KubeCore

/// The built-in resources the dev server serves from the start.
enum BuiltinResources {
    static func all() -> [ResourceInfo] {
        func r(_ group: String, _ version: String, _ resource: String, _ singular: String, _ kind: String,
               namespaced: Bool = true, short: [String] = [], status: Bool = false, generation: Bool = false,
               nameRule: NameValidation.NameRule = .dnsSubdomain, categories: [String] = [], unconditional: Bool = true) -> ResourceInfo
        {
            var info = ResourceInfo(group: group, versions: [version], resource: resource, singular: singular, kind: kind, namespaced: namespaced)
            info.shortNames = short
            info.hasStatus = status
            info.tracksGeneration = generation
            info.nameRule = nameRule
            info.categories = categories
            info.allowUnconditionalUpdate = unconditional
            return info
        }
        return [
            r("", "v1", "namespaces", "namespace", "Namespace", namespaced: false, short: ["ns"], status: true, nameRule: .dnsLabel),
            r("", "v1", "configmaps", "configmap", "ConfigMap", short: ["cm"]),
            r("", "v1", "secrets", "secret", "Secret"),
            r("", "v1", "services", "service", "Service", short: ["svc"], status: true, nameRule: .dnsLabel, categories: ["all"]),
            r("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", short: ["sa"]),
            r("", "v1", "pods", "pod", "Pod", short: ["po"], status: true, generation: true, categories: ["all"]),
            r("", "v1", "events", "event", "Event", short: ["ev"]),
            r("events.k8s.io", "v1", "events", "event", "Event", short: ["ev"]),
            r("apps", "v1", "deployments", "deployment", "Deployment", short: ["deploy"], status: true, generation: true, categories: ["all"]),
            r("apps", "v1", "replicasets", "replicaset", "ReplicaSet", short: ["rs"], status: true, generation: true, categories: ["all"]),
            r("apps", "v1", "statefulsets", "statefulset", "StatefulSet", short: ["sts"], status: true, generation: true, categories: ["all"]),
            r("batch", "v1", "jobs", "job", "Job", status: true, generation: true, categories: ["all"]),
            r("coordination.k8s.io", "v1", "leases", "lease", "Lease"),
            r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition",
              namespaced: false, short: ["crd", "crds"], status: true, generation: true, categories: ["api-extensions"]),
        ]
    }

    /// Namespaces that exist when the server starts, as in a new cluster.
    static let initialNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// Field selectors each resource supports beyond `metadata.name` and `metadata.namespace`.
    static func extraSelectableFields(_ resource: GroupResource) -> [String] {
        switch (resource.group, resource.resource) {
        case ("", "pods"): return ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP"]
        case ("", "secrets"): return ["type"]
        case ("", "namespaces"): return ["status.phase"]
        case ("", "events"):
            return ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]
        case ("events.k8s.io", "events"):
            return ["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "reason", "type", "reportingController"]
        case ("batch", "jobs"): return ["status.successful"]
        default: return []
        }
    }
}
