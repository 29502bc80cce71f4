import DequeModule
import Foundation
import KubeCore
import NIOHTTP1

/// The REST verbs for one resource, optionally inside one namespace.
/// Bodies go out as JSON bytes and come back as the server's bytes.
public struct ResourceClient: Sendable {
    public let transport: Transport
    public let resource: GroupVersionResource
    /// nil for cluster-scoped resources, or to list and watch across namespaces.
    public let namespace: String?

    public init(transport: Transport, resource: GroupVersionResource, namespace: String?) {
        self.transport = transport
        self.resource = resource
        self.namespace = namespace
    }

    func path(_ name: String? = nil, subresource: String? = nil) -> String {
        resource.path(namespace: namespace, name: name, subresource: subresource)
    }

    public func get(_ name: String, subresource: String? = nil) async throws -> [UInt8] {
        try await transport.send(APIRequest(method: .GET, path: path(name, subresource: subresource))).body
    }

    public func list(_ options: ListOptions = ListOptions()) async throws -> [UInt8] {
        try await transport.send(APIRequest(method: .GET, path: path(), query: options.query)).body
    }

    public func create(_ body: [UInt8], options: WriteOptions = WriteOptions()) async throws -> [UInt8] {
        try await transport.send(APIRequest(method: .POST, path: path(), query: options.query, body: body)).body
    }

    /// PUT: replaces the object (or its status), with optimistic concurrency on
    /// the body's `metadata.resourceVersion`.
    public func update(_ name: String, _ body: [UInt8], subresource: String? = nil, options: WriteOptions = WriteOptions()) async throws -> [UInt8] {
        try await transport.send(APIRequest(method: .PUT, path: path(name, subresource: subresource), query: options.query, body: body)).body
    }

    /// PATCH in any of the four formats. Server-side apply needs `options.fieldManager`.
    public func patch(_ name: String, _ body: [UInt8], type: PatchType, subresource: String? = nil, options: WriteOptions = WriteOptions()) async throws -> [UInt8] {
        var query = options.query
        if case .apply(let force) = type {
            precondition(options.fieldManager != nil, "server-side apply needs a field manager")
            if force { query.append(("force", "true")) }
        }
        return try await transport.send(APIRequest(method: .PATCH, path: path(name, subresource: subresource), query: query, body: body,
                                                   contentType: type.contentType)).body
    }

    public func delete(_ name: String, options: DeleteOptions = DeleteOptions()) async throws -> [UInt8] {
        try await transport.send(APIRequest(method: .DELETE, path: path(name), query: Self.query(options), body: Self.body(options))).body
    }

    public func deleteCollection(_ list: ListOptions = ListOptions(), options: DeleteOptions = DeleteOptions()) async throws -> [UInt8] {
        try await transport.send(APIRequest(method: .DELETE, path: path(), query: list.query + Self.query(options), body: Self.body(options))).body
    }

    static func query(_ options: DeleteOptions) -> [(String, String)] {
        var q: [(String, String)] = []
        if let policy = options.propagationPolicy { q.append(("propagationPolicy", policy.rawValue)) }
        if let grace = options.gracePeriodSeconds { q.append(("gracePeriodSeconds", String(grace))) }
        if options.dryRun { q.append(("dryRun", "All")) }
        return q
    }

    /// Preconditions travel in a `DeleteOptions` body.
    static func body(_ options: DeleteOptions) -> [UInt8]? {
        guard options.preconditionUID != nil || options.preconditionResourceVersion != nil else { return nil }
        var preconditions: JSON = [:]
        if let uid = options.preconditionUID { preconditions["uid"] = .string(uid) }
        if let rv = options.preconditionResourceVersion { preconditions["resourceVersion"] = .string(rv) }
        let body: JSON = ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": preconditions]
        return body.serialized()
    }

    /// Opens a watch and returns its events, decoded as the bytes arrive
    /// (`WatchLineDecoder`: only the current partial line is buffered). The
    /// stream ends when the server ends the watch; a line that is not an event,
    /// or a stream cut inside one, ends it with an error.
    public func watch(_ options: WatchOptions, cutManagedFields: Bool = false) async throws -> AsyncThrowingStream<WatchEvent, any Error> {
        let batches = try await watchBatches(options, cutManagedFields: cutManagedFields)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await batch in batches {
                        for event in batch { continuation.yield(event) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// As `watch`, but the events come in the batches they arrived in (all the
    /// complete lines of one read), so a consumer of many events pays for one
    /// hand-over per read rather than per event. Batches are never empty.
    ///
    /// The lines of a read are decoded in a task of their own while the next reads are taken in
    /// (up to `watchDecodeWindow` reads at once), and their events are handed on in stream order:
    /// a streaming list of many objects is decoded on every core the machine has to spare. A read
    /// of a few lines while none is being decoded (a watch's usual trickle of changes) is decoded
    /// at once, without a task. A bad line ends the stream after the events before it, with the
    /// line's offset and number in the whole stream, as `WatchLineDecoder` reports them.
    public func watchBatches(_ options: WatchOptions, cutManagedFields: Bool = false) async throws -> AsyncThrowingStream<[WatchEvent], any Error> {
        // Decoded straight from the response body: chunks are read as fast as they are decoded (see `openStream`).
        let (_, body) = try await transport.openStream(APIRequest(method: .GET, path: path(), query: options.query))
        return AsyncThrowingStream { continuation in
            let task = Task {
                let delivery = WatchDelivery(continuation)
                var splitter = WatchLineSplitter(maxLineLength: WatchLineDecoder.defaultMaxLineLength)
                // Each task decodes one read, waits for the task before it, then hands its events on:
                // events go out in stream order as soon as they are decoded, whether or not more is read.
                var decoding = Deque<Task<Void, Never>>()
                do {
                    for try await chunk in body {
                        guard let segment = try splitter.feed(chunk) else { continue }
                        if decoding.isEmpty && segment.byteCount <= Self.watchInlineDecodeBytes {
                            delivery.deliver(WatchLineSplitter.decode(segment, cutManagedFields: cutManagedFields))
                            continue
                        }
                        let previous = decoding.last
                        decoding.append(Task {
                            let result = WatchLineSplitter.decode(segment, cutManagedFields: cutManagedFields)
                            await previous?.value
                            delivery.deliver(result)
                        })
                        while decoding.count > Self.watchDecodeWindow { await decoding.removeFirst().value }
                    }
                    while let next = decoding.popFirst() { await next.value }
                    if let last = splitter.finish() { delivery.deliver(WatchLineSplitter.decode(last, cutManagedFields: cutManagedFields)) }
                    delivery.finish()
                } catch {
                    // What was read before the failure (a line too long, a broken connection) is handed on first.
                    while let next = decoding.popFirst() { await next.value }
                    if let tooLong = error as? WatchLineSplitter.LineTooLong {
                        delivery.failAtNextLine(offset: tooLong.offset, reason: "line longer than \(splitter.maxLineLength) bytes")
                    } else {
                        delivery.fail(error)
                    }
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Reads decoded at once rather than in a task of their own, when none is being decoded.
    static let watchInlineDecodeBytes = 8 << 10
    /// Reads being decoded at once, beyond the one being handed on.
    static let watchDecodeWindow = 3

    /// A list, decoded into objects that keep the server's bytes.
    public func listObjects(_ options: ListOptions = ListOptions(), cutManagedFields: Bool = false) async throws -> KubeObjectList {
        try KubeObjectList.decode(bytes: try await list(options), cutManagedFields: cutManagedFields)
    }
}
