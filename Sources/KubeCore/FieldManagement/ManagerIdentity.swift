/// What makes two entries the same manager: name, operation, subresource,
/// and for Update entries the API version. An applier keeps one entry
/// whatever version it applies through.
struct ManagerIdentity: Hashable, Sendable {
    let manager: String
    let operation: ManagedFieldsEntry.Operation
    let apiVersion: String
    let subresource: String?

    init(manager: String, operation: ManagedFieldsEntry.Operation, apiVersion: String, subresource: String?) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = operation == .apply ? "" : apiVersion
        self.subresource = subresource?.isEmpty == true ? nil : subresource
    }

    /// The identifier kube-apiserver keys managers by (the entry's JSON
    /// without fields and time). Ties in ordering are broken on it.
    var identifier: String {
        var out = "{"
        var first = true
        for (key, value) in [("manager", manager), ("operation", operation.rawValue), ("apiVersion", apiVersion), ("subresource", subresource ?? "")]
        where !value.isEmpty {
            if !first { out += "," }
            first = false
            out += JSON.string(key).serializedString() + ":" + JSON.string(value).serializedString()
        }
        return out + "}"
    }

    /// How conflict messages name the manager: `"kubectl"`,
    /// `"hpa" using autoscaling/v2`, `"kubelet" with subresource "status" using v1`.
    var displayName: String {
        var out = GoFormat.quote(manager)
        if let subresource { out += " with subresource \(GoFormat.quote(subresource))" }
        if operation == .update { out += " using \(apiVersion)" }
        return out
    }
}
