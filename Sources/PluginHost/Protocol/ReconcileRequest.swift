import Informers
import KubeClient
import KubeCore

/// The key of a primary object: what the queue holds and a plugin reconciles.
public struct ReconcileKey: Hashable, Sendable, CustomStringConvertible {
    /// "" for cluster-scoped objects.
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public init(_ metadata: ObjectMetadata) {
        self.init(namespace: metadata.namespace, name: metadata.name)
    }

    /// `namespace/name` (`name` when cluster-scoped): the informer cache's key of the object.
    public var description: String { objectKey(namespace: namespace, name: name) }
}

/// Builds the body of a reconcile request by splicing the cached objects'
/// bytes into the envelope: nothing is parsed or encoded again.
public struct ReconcileRequestBuilder: Sendable {
    public let plugin: String
    /// The bytes every body of this plugin starts with, up to the key's namespace.
    private let prefix: [UInt8]

    public init(plugin: String) {
        self.plugin = plugin
        self.prefix = Self.prefix(plugin: plugin)
    }

    private static func prefix(plugin: String) -> [UInt8] {
        var out: [UInt8] = []
        out += #"{"apiVersion":"#.utf8
        JSON.string(pluginProtocolVersion).write(into: &out)
        out += #","kind":"ReconcileRequest","plugin":"#.utf8
        JSON.string(plugin).write(into: &out)
        out += #","key":{"namespace":"#.utf8
        return out
    }

    /// - Parameters:
    ///   - children, related: `Kind.apiVersion` to objects, in the order the keys are to appear.
    public func body(key: ReconcileKey, attempt: Int, object: KubeObject?,
                     children: [(String, [KubeObject])], related: [(String, [KubeObject])]) -> [UInt8] {
        var size = 128 + prefix.count + key.namespace.utf8.count + key.name.utf8.count
        size += object?.bytes.count ?? 4
        for (_, list) in children { size += 32 + list.reduce(0) { $0 + $1.bytes.count + 1 } }
        for (_, list) in related { size += 32 + list.reduce(0) { $0 + $1.bytes.count + 1 } }
        var out: [UInt8] = []
        out.reserveCapacity(size)
        out += prefix
        JSON.string(key.namespace).write(into: &out)
        out += #","name":"#.utf8
        JSON.string(key.name).write(into: &out)
        out += #"},"attempt":"#.utf8
        out += String(attempt).utf8
        out += #","deleting":"#.utf8
        var deleting = false
        if let object { deleting = object.metadata.deletionTimestamp != nil }  // read in place: `object?.metadata` copies it
        out += (deleting ? "true" : "false").utf8
        out += #","object":"#.utf8
        if let object { out += object.bytes } else { out += "null".utf8 }
        out += #","children":"#.utf8
        append(groups: children, to: &out)
        out += #","related":"#.utf8
        append(groups: related, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private func append(groups: [(String, [KubeObject])], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, (name, objects)) in groups.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSON.string(name).write(into: &out)
            out += ":[".utf8
            for (i, object) in objects.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += object.bytes
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }
}
