/// A request path of the Kubernetes REST API, taken apart.
///
/// `/api/v1/namespaces/NS/configmaps/NAME/status`,
/// `/apis/GROUP/VERSION/RESOURCE/NAME`, and the legacy `/api/v1/watch/...` form.
struct APIPath: Equatable, Sendable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?
    /// The path used the legacy `/watch/` segment.
    var legacyWatch = false

    /// What a path that is not a resource path points at.
    enum Other: Equatable, Sendable {
        case root, version, healthz(String), api, apiVersion(String), apis, apiGroup(String), apiGroupVersion(String, String)
        case openAPIv2, openAPIv3, openAPIv3Document(String), devControl([String])
    }

    enum Parsed: Equatable, Sendable {
        case resource(APIPath)
        case other(Other)
        case notFound
    }

    static func parse(_ path: String) -> Parsed {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncodingOrSelf }
        if segments.isEmpty { return .other(.root) }
        switch segments[0] {
        case "version": return segments.count == 1 ? .other(.version) : .notFound
        case "healthz", "readyz", "livez": return .other(.healthz(segments.joined(separator: "/")))
        case "openapi":
            if segments == ["openapi", "v2"] { return .other(.openAPIv2) }
            if segments == ["openapi", "v3"] { return .other(.openAPIv3) }
            if segments.count > 2 && segments[1] == "v3" { return .other(.openAPIv3Document(segments[2...].joined(separator: "/"))) }
            return .notFound
        case "dev": return .other(.devControl(Array(segments.dropFirst())))
        case "api":
            if segments.count == 1 { return .other(.api) }
            if segments.count == 2 { return .other(.apiVersion(segments[1])) }
            let version = segments[1]
            segments.removeFirst(2)
            return resourcePath(group: "", version: version, rest: segments)
        case "apis":
            if segments.count == 1 { return .other(.apis) }
            if segments.count == 2 { return .other(.apiGroup(segments[1])) }
            if segments.count == 3 { return .other(.apiGroupVersion(segments[1], segments[2])) }
            let group = segments[1]
            let version = segments[2]
            segments.removeFirst(3)
            return resourcePath(group: group, version: version, rest: segments)
        default:
            return .notFound
        }
    }

    private static func resourcePath(group: String, version: String, rest: [String]) -> Parsed {
        var rest = rest
        var legacyWatch = false
        if rest.first == "watch" {
            legacyWatch = true
            rest.removeFirst()
        }
        var path = APIPath(group: group, version: version, namespace: nil, resource: "", legacyWatch: legacyWatch)
        // /namespaces/NS/RESOURCE/... is a namespaced resource, except that
        // /namespaces/NAME/status and /namespaces/NAME/finalize are the namespace's own subresources.
        if group.isEmpty, rest.count >= 3, rest[0] == "namespaces", !(rest.count == 3 && (rest[2] == "status" || rest[2] == "finalize")) {
            path.namespace = rest[1]
            rest.removeFirst(2)
        } else if !group.isEmpty, rest.count >= 3, rest[0] == "namespaces" {
            path.namespace = rest[1]
            rest.removeFirst(2)
        }
        guard !rest.isEmpty, rest.count <= 3 else { return .notFound }
        path.resource = rest[0]
        if rest.count >= 2 { path.name = rest[1] }
        if rest.count == 3 { path.subresource = rest[2] }
        return .resource(path)
    }
}

extension String {
    var removingPercentEncodingOrSelf: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = Array(utf8).makeIterator()
        while let b = iterator.next() {
            if b == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
               let value = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Query parameters, decoded as Go's `url.ParseQuery` does (`+` is a space).
struct QueryParameters: Sendable {
    private var values: [String: [String]] = [:]

    init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).replacingPlus.removingPercentEncodingOrSelf
            let value = parts.count > 1 ? String(parts[1]).replacingPlus.removingPercentEncodingOrSelf : ""
            values[key, default: []].append(value)
        }
    }

    subscript(_ key: String) -> String? { values[key]?.first }

    func bool(_ key: String) -> Bool? {
        guard let value = self[key] else { return nil }
        return value == "true" || value == "1"
    }

    func all(_ key: String) -> [String] { values[key] ?? [] }
}

private extension String {
    var replacingPlus: String { contains("+") ? String(map { $0 == "+" ? " " : $0 }) : self }
}
