import KubeCore

/// In-process writes for benchmarks that measure the server's read and watch
/// paths without the cost of an HTTP client doing the writes.
extension ObjectStore {
    public func createForBenchmark(_ info: ResourceInfo, body: JSON) throws -> String {
        let namespace = body[path: ["metadata", "namespace"]]?.stringValue
        return try create(info, version: info.storageVersion, namespace: namespace, body: body, options: WriteOptions(fieldManager: "bench")).object.key.name
    }

    public func updateForBenchmark(_ info: ResourceInfo, name: String, data: JSON) throws -> UInt64 {
        let key = ObjectKey(namespace: info.namespaced ? "default" : "", name: name)
        return try patch(info, version: info.storageVersion, key: key, subresource: nil, type: .merge, patch: ["data": data],
                         options: WriteOptions(fieldManager: "bench")).object.resourceVersion
    }
}
