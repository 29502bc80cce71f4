import Foundation
import Hummingbird
import KubeCore
import Logging
import NIOCore

/// The request context: Hummingbird's core context plus the channel, whose TLS
/// handler holds the client certificate.
public struct DevRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// Answers every request of the Kubernetes REST API from the object store.
struct APIResponder: HTTPResponder {
    typealias Context = DevRequestContext

    let store: ObjectStore
    let faults: FaultInjector
    let authentication: Authentication
    let serverAddress: @Sendable () -> String
    let maxBodySize: Int
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        do {
            let latency = faults.latency
            if latency > .zero { try await Task.sleep(for: latency) }
            return try await handle(request, context: context)
        } catch let error as APIError {
            return Self.statusResponse(error)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return Self.statusResponse(APIError.internalError("\(error)"))
        }
    }

    private func handle(_ request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if authentication.isEnabled && !Authentication.publicPaths.contains(path) {
            let user = await authentication.authenticate(authorization: request.headers[.authorization], channel: context.channel)
            guard user != nil else { throw APIError.unauthorized }
        }
        let query = QueryParameters(request.uri.query)
        switch APIPath.parse(path) {
        case .notFound:
            throw APIError.notFoundPath()
        case .other(let other):
            return try await handleOther(other, request: request, query: query)
        case .resource(let apiPath):
            return try await handleResource(apiPath, request: request, query: query)
        }
    }

    // MARK: Non-resource paths

    private func handleOther(_ other: APIPath.Other, request: Request, query: QueryParameters) async throws -> Response {
        let resources = store.allResources()
        switch other {
        case .root:
            var paths = ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]
            for group in Discovery.groups(resources) {
                paths.append("/apis/\(group.name)")
                paths += group.versions.map { "/apis/\(group.name)/\($0)" }
            }
            return Self.json(["paths": .array(paths.sorted().map { .string($0) })])
        case .version:
            return Self.json(["major": "1", "minor": "37", "gitVersion": "v1.37.0-plugboard-dev", "gitCommit": "", "gitTreeState": "clean",
                              "buildDate": "2026-11-26T00:00:00Z", "goVersion": "none", "compiler": "swift", "platform": "linux/amd64"])
        case .healthz:
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        case .api:
            return Self.json(Discovery.coreVersions(serverAddress: serverAddress()))
        case .apiVersion(let version):
            guard let list = Discovery.resourceList(group: "", version: version, resources: resources) else { throw APIError.notFoundPath() }
            return Self.json(list)
        case .apis:
            return Self.json(Discovery.groupList(resources))
        case .apiGroup(let group):
            guard let json = Discovery.group(group, resources: resources) else { throw APIError.notFoundPath() }
            return Self.json(json)
        case .apiGroupVersion(let group, let version):
            guard let list = Discovery.resourceList(group: group, version: version, resources: resources) else { throw APIError.notFoundPath() }
            return Self.json(list)
        case .openAPIv2:
            throw APIError.notFoundPath()
        case .openAPIv3:
            return Self.json(OpenAPI.index(resources))
        case .openAPIv3Document(let path):
            guard let document = OpenAPI.document(path: path, resources: resources) else { throw APIError.notFoundPath() }
            return Self.json(document)
        case .devControl(let segments):
            return try await DevControl.handle(segments, method: request.method, body: try await collectJSON(request), store: store, faults: faults)
        }
    }

    // MARK: Resource paths

    private func handleResource(_ path: APIPath, request: Request, query: QueryParameters) async throws -> Response {
        guard let info = store.resource(group: path.group, version: path.version, resource: path.resource) else {
            throw APIError.notFoundPath()
        }
        if let subresource = path.subresource, !(subresource == "status" && info.hasStatus) {
            throw APIError.notFoundPath()
        }
        if path.namespace != nil && !info.namespaced { throw APIError.notFoundPath() }
        let isWatch = path.legacyWatch || query.bool("watch") == true
        let verb: String
        switch (request.method, path.name) {
        case (.get, nil): verb = isWatch ? "watch" : "list"
        case (.get, _): verb = isWatch ? "watch" : "get"
        case (.post, nil): verb = "create"
        case (.put, _?): verb = "update"
        case (.patch, _?): verb = "patch"
        case (.delete, nil): verb = "deletecollection"
        case (.delete, _?): verb = "delete"
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        if let injected = faults.failure(verb: verb, resource: path.resource) { throw injected }
        // Namespaced objects are addressed inside a namespace; only list and watch may span all of them.
        if info.namespaced && path.namespace == nil && !["list", "watch"].contains(verb) { throw APIError.notFoundPath() }
        let namespace = info.namespaced ? path.namespace : nil
        let version = path.version
        let accept = request.headers[.accept]

        switch verb {
        case "get":
            let object = try store.get(info, key: ObjectKey(namespace: namespace ?? "", name: path.name!))
            if TableConverter.wantsTable(accept) {
                return Self.json(TableConverter.table([object.object], info: info, version: version, listMetadata: ["resourceVersion": .string(String(object.resourceVersion))]))
            }
            return Self.json(bytes: store.render(object, info: info, version: version))
        case "list":
            return try list(info, version: version, namespace: namespace, query: query, accept: accept)
        case "watch":
            var options = try watchOptions(query, resource: info)
            if let name = path.name {
                options.fieldSelector = FieldSelector(requirements: [.init(field: "metadata.name", negated: false, value: name)])
            }
            let subscription = try store.watch(info, version: version, namespace: namespace, options: options)
            return watchResponse(subscription, info: info, version: version, timeout: options.timeoutSeconds, table: TableConverter.wantsTable(accept))
        case "create":
            let body = try await decodeBody(request)
            let result = try store.create(info, version: version, namespace: namespace, body: body, options: try writeOptions(query, request: request))
            return Self.json(bytes: store.render(result.object, info: info, version: version), status: .created)
        case "update":
            let body = try await decodeBody(request)
            let key = ObjectKey(namespace: namespace ?? "", name: path.name!)
            let result = try store.update(info, version: version, key: key, subresource: path.subresource, body: body, options: try writeOptions(query, request: request))
            return Self.json(bytes: store.render(result.object, info: info, version: version))
        case "patch":
            let contentType = request.headers[.contentType] ?? ""
            let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard let type = ObjectStore.PatchType(rawValue: media), type != .applyCBOR else {
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json")
            }
            let body = try await decodeBody(request)
            var options = try writeOptions(query, request: request)
            if type == .apply {
                guard let manager = query["fieldManager"], !manager.isEmpty else {
                    throw APIError(code: 422, reason: "Invalid", message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                                   details: ["group": "meta.k8s.io", "kind": "PatchOptions", "causes": [["reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"]]])
                }
                options.fieldManager = manager
                options.force = query.bool("force") ?? false
            } else if query["force"] != nil {
                throw APIError(code: 422, reason: "Invalid", message: "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
                               details: ["group": "meta.k8s.io", "kind": "PatchOptions", "causes": [["reason": "FieldValueForbidden", "message": "Forbidden: may not be specified for non-apply patch", "field": "force"]]])
            }
            let key = ObjectKey(namespace: namespace ?? "", name: path.name!)
            let result = try store.patch(info, version: version, key: key, subresource: path.subresource, type: type, patch: body, options: options)
            return Self.json(bytes: store.render(result.object, info: info, version: version), status: result.created ? .created : .ok)
        case "delete":
            let options = try deleteOptions(query, body: try await collectJSON(request))
            let key = ObjectKey(namespace: namespace ?? "", name: path.name!)
            let result = try store.delete(info, key: key, options: options)
            if result.isBeingDeleted || info.isCustom || info.kind == "Pod" || options.dryRun {
                return Self.json(bytes: store.render(result, info: info, version: version))
            }
            var details: JSON = ["name": .string(key.name), "kind": .string(info.resource), "uid": .string(result.uid)]
            if !info.group.isEmpty { details["group"] = .string(info.group) }
            return Self.json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": details])
        case "deletecollection":
            let options = try deleteOptions(query, body: try await collectJSON(request))
            let listOptions = try self.listOptions(query, resource: info)
            let deleted = try store.deleteCollection(info, namespace: namespace, list: listOptions, options: options)
            return Self.json(bytes: listBytes(deleted.map { store.render($0, info: info, version: version) }, info: info, version: version,
                                              metadata: ["resourceVersion": .string(String(store.currentResourceVersion))]))
        default:
            throw APIError.methodNotAllowed("unsupported verb \(verb)")
        }
    }

    private func list(_ info: ResourceInfo, version: String, namespace: String?, query: QueryParameters, accept: String?) throws -> Response {
        let options = try listOptions(query, resource: info)
        let result = try store.list(info, namespace: namespace, options: options)
        var metadata: JSON = ["resourceVersion": .string(String(result.resourceVersion))]
        if let token = result.continueToken { metadata["continue"] = .string(token) }
        if let remaining = result.remainingItemCount { metadata["remainingItemCount"] = .int(Int64(remaining)) }
        if TableConverter.wantsTable(accept) {
            return Self.json(TableConverter.table(result.items.map(\.object), info: info, version: version, listMetadata: metadata))
        }
        return Self.json(bytes: listBytes(result.items.map { store.render($0, info: info, version: version) }, info: info, version: version, metadata: metadata))
    }

    /// A list response spliced from the stored bytes of its items, with its members in kube-apiserver's
    /// order (kind, apiVersion, metadata, items): a client can read the continue token before the items.
    private func listBytes(_ items: [[UInt8]], info: ResourceInfo, version: String, metadata: JSON) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(items.reduce(192) { $0 + $1.count + 1 })
        out.append(contentsOf: #"{"kind":"#.utf8)
        JSON.string(info.listKind).write(into: &out)
        out.append(contentsOf: #","apiVersion":"#.utf8)
        JSON.string(info.apiVersion(version)).write(into: &out)
        out.append(contentsOf: #","metadata":"#.utf8)
        metadata.write(into: &out)
        out.append(contentsOf: #","items":["#.utf8)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    // MARK: Watch

    /// Bytes of initial watch lines gathered per write.
    static let initialEventsChunk = 1 << 20

    private func watchResponse(_ subscription: WatchSubscription, info: ResourceInfo, version: String, timeout: Int?, table: Bool) -> Response {
        // Without timeoutSeconds a real server ends a watch after 30 to 60 minutes.
        let seconds = timeout ?? Int.random(in: 1800...3600)
        let convert: @Sendable ([UInt8]) -> [UInt8]
        if table {
            convert = { line in Self.tableWatchLine(line, info: info, version: version) }
        } else {
            convert = { line in line }
        }
        let body = ResponseBody { writer in
            let timer = Task {
                try? await Task.sleep(for: .seconds(seconds))
                subscription.cancel()
            }
            defer {
                timer.cancel()
                subscription.cancel()
            }
            // The lines to send first (a streaming list's whole state, or replayed history) go out in
            // writes of about a megabyte, as a LIST body does, not one write each.
            var chunk = ByteBuffer()
            // Appends a line to the chunk, and writes the chunk once it is full.
            func send(_ append: (inout ByteBuffer) -> Void) async throws {
                append(&chunk)
                if chunk.readableBytes >= Self.initialEventsChunk {
                    try await writer.write(chunk)
                    chunk = ByteBuffer()
                }
            }
            try await subscription.initialState?.forEachSelected { object in
                let bytes = store.render(object, info: info, version: version)
                if table {
                    try await send { $0.writeBytes(convert(WatchLine.encode(.added, objectBytes: bytes))) }
                } else {
                    try await send { WatchLine.write(.added, objectBytes: bytes, into: &$0) }
                }
            }
            for line in subscription.initial {
                try await send { $0.writeBytes(convert(line)) }
            }
            if chunk.readableBytes > 0 { try await writer.write(chunk) }
            if let stream = subscription.stream {
                for await line in stream {
                    try await writer.write(ByteBuffer(bytes: convert(line)))
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// For `kubectl get -w`: each event's object becomes a one-row Table.
    static func tableWatchLine(_ line: [UInt8], info: ResourceInfo, version: String) -> [UInt8] {
        guard var event = try? JSON.parse(line), let type = event["type"]?.stringValue,
              type != "ERROR", type != "BOOKMARK", let object = event["object"]
        else { return line }
        event["object"] = TableConverter.table([object], info: info, version: version,
                                               listMetadata: ["resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? ""])
        var out = event.serialized()
        out.append(UInt8(ascii: "\n"))
        return out
    }

    // MARK: Options

    private func listOptions(_ query: QueryParameters, resource info: ResourceInfo) throws(APIError) -> ListOptions {
        var options = ListOptions()
        options.labelSelector = try parseLabelSelector(query["labelSelector"])
        options.fieldSelector = try parseFieldSelector(query["fieldSelector"], resource: info)
        if let limit = query["limit"], !limit.isEmpty {
            guard let value = Int(limit), value >= 0 else { throw APIError.badRequest("invalid limit: \(limit)") }
            options.limit = value
        }
        options.continueToken = query["continue"].flatMap { $0.isEmpty ? nil : $0 }
        options.resourceVersion = query["resourceVersion"]
        options.resourceVersionMatch = try resourceVersionMatch(query)
        if options.continueToken != nil && !(options.resourceVersion ?? "").isEmpty {
            throw APIError(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: resourceVersion: Forbidden: specifying resource version is not allowed when using continue",
                           details: ["group": "meta.k8s.io", "kind": "ListOptions", "causes": [["reason": "FieldValueForbidden", "message": "Forbidden: specifying resource version is not allowed when using continue", "field": "resourceVersion"] as JSON]] as JSON)
        }
        return options
    }

    private func resourceVersionMatch(_ query: QueryParameters) throws(APIError) -> String? {
        guard let match = query["resourceVersionMatch"], !match.isEmpty else { return nil }
        guard match == "Exact" || match == "NotOlderThan" else {
            throw APIError(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Unsupported value: \"\(match)\": supported values: \"Exact\", \"NotOlderThan\", \"\"",
                           details: ["group": "meta.k8s.io", "kind": "ListOptions", "causes": [["reason": "FieldValueNotSupported", "message": .string("Unsupported value: \"\(match)\""), "field": "resourceVersionMatch"] as JSON]] as JSON)
        }
        if (query["resourceVersion"] ?? "").isEmpty && query.bool("watch") != true {
            throw APIError(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                           details: ["group": "meta.k8s.io", "kind": "ListOptions", "causes": [["reason": "FieldValueForbidden", "message": "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided", "field": "resourceVersionMatch"]]])
        }
        return match
    }

    private func watchOptions(_ query: QueryParameters, resource info: ResourceInfo) throws(APIError) -> WatchOptions {
        var options = WatchOptions()
        options.labelSelector = try parseLabelSelector(query["labelSelector"])
        options.fieldSelector = try parseFieldSelector(query["fieldSelector"], resource: info)
        options.resourceVersion = query["resourceVersion"]
        options.resourceVersionMatch = query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        options.allowBookmarks = query.bool("allowWatchBookmarks") ?? false
        options.sendInitialEvents = query.bool("sendInitialEvents")
        if let timeout = query["timeoutSeconds"], !timeout.isEmpty {
            guard let value = Int(timeout), value >= 0 else { throw APIError.badRequest("invalid timeoutSeconds: \(timeout)") }
            options.timeoutSeconds = value
        }
        return options
    }

    private func parseLabelSelector(_ text: String?) throws(APIError) -> LabelSelector {
        guard let text, !text.isEmpty else { return LabelSelector() }
        do {
            return try LabelSelector(parsing: text)
        } catch {
            throw APIError.badRequest(error.message)
        }
    }

    private func parseFieldSelector(_ text: String?, resource: ResourceInfo) throws(APIError) -> FieldSelector {
        guard let text, !text.isEmpty else { return FieldSelector() }
        let selector: FieldSelector
        do {
            selector = try FieldSelector(parsing: text)
        } catch {
            throw APIError.badRequest("\(error)")
        }
        let supported = Set(["metadata.name", "metadata.namespace"] + BuiltinResources.extraSelectableFields(resource.groupResource))
        if let unsupported = selector.unsupportedFieldError(supported: supported) { throw APIError.badRequest(unsupported) }
        return selector
    }

    private func writeOptions(_ query: QueryParameters, request: Request) throws(APIError) -> WriteOptions {
        var manager = query["fieldManager"] ?? ""
        if manager.isEmpty {
            // As kube-apiserver: the user agent up to its first slash.
            let agent = request.headers[.userAgent] ?? "unknown"
            manager = String(agent.split(separator: "/", maxSplits: 1).first ?? "unknown")
        }
        if manager.count > 128 {
            throw APIError(code: 422, reason: "Invalid", message: "fieldManager: Too long: may not be more than 128 bytes")
        }
        var options = WriteOptions(fieldManager: manager)
        options.dryRun = try dryRun(query.all("dryRun"))
        switch query["fieldValidation"] ?? "" {
        case "", "Ignore", "Warn": break
        case "Strict": options.strictFields = true
        case let other: throw APIError.badRequest("fieldValidation must be one of Ignore, Warn, Strict, got \(other)")
        }
        return options
    }

    private func dryRun(_ values: [String]) throws(APIError) -> Bool {
        for value in values where value != "All" {
            throw APIError(code: 422, reason: "Invalid", message: "dryRun: Unsupported value: \"\(value)\": supported values: \"All\"")
        }
        return !values.isEmpty
    }

    private func deleteOptions(_ query: QueryParameters, body: JSON?) throws(APIError) -> DeleteOptions {
        var options = DeleteOptions()
        var policy = query["propagationPolicy"]
        if let orphan = query.bool("orphanDependents") { policy = policy ?? (orphan ? "Orphan" : "Background") }
        if let body {
            if let p = body["propagationPolicy"]?.stringValue { policy = p }
            if let orphan = body["orphanDependents"]?.boolValue, policy == nil { policy = orphan ? "Orphan" : "Background" }
            options.preconditionUID = body[path: ["preconditions", "uid"]]?.stringValue
            options.preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.stringValue
            options.dryRun = try dryRun(body["dryRun"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            options.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue.map(Int.init)
        }
        if !options.dryRun { options.dryRun = try dryRun(query.all("dryRun")) }
        if let policy {
            guard let parsed = DeleteOptions.Propagation(rawValue: policy) else {
                throw APIError(code: 422, reason: "Invalid", message: "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
                               details: ["group": "meta.k8s.io", "kind": "DeleteOptions", "causes": [["reason": "FieldValueNotSupported", "message": .string("Unsupported value: \"\(policy)\""), "field": "propagationPolicy"] as JSON]] as JSON)
            }
            options.propagation = parsed
        }
        return options
    }

    // MARK: Bodies and responses

    private func collectBytes(_ request: Request) async throws -> [UInt8] {
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodySize {
            throw APIError.tooLarge(maxBodySize)
        }
        do {
            let buffer = try await request.collectBody(upTo: maxBodySize)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(maxBodySize)
        }
    }

    private func decodeBody(_ request: Request) async throws -> JSON {
        let bytes = try await collectBytes(request)
        guard !bytes.isEmpty else { throw APIError.badRequest("the request body is empty") }
        return try BodyDecoding.decode(bytes, contentType: request.headers[.contentType] ?? "application/json")
    }

    /// An optional JSON body (DELETE options, control requests).
    private func collectJSON(_ request: Request) async throws -> JSON? {
        let bytes = try await collectBytes(request)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return nil }
        return try BodyDecoding.decode(bytes, contentType: request.headers[.contentType] ?? "application/json")
    }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        json(bytes: value.serialized(), status: status)
    }

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .contentLength: String(bytes.count)],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func statusResponse(_ error: APIError) -> Response {
        var response = json(error.status, status: HTTPResponse.Status(code: error.code))
        if let retryAfter = error.retryAfterSeconds { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
