import KubeCore

/// Options of a list request (`GET` on a collection).
struct ListOptions: Sendable {
    var labelSelector = LabelSelector()
    var fieldSelector = FieldSelector()
    var limit: Int = 0
    var continueToken: String?
    var resourceVersion: String?
    var resourceVersionMatch: String?
}

/// Options of a watch request.
struct WatchOptions: Sendable {
    var labelSelector = LabelSelector()
    var fieldSelector = FieldSelector()
    var resourceVersion: String?
    var resourceVersionMatch: String?
    var allowBookmarks = false
    var sendInitialEvents: Bool?
    var timeoutSeconds: Int?
}

/// Options shared by create, update and patch.
struct WriteOptions: Sendable {
    var fieldManager: String
    var dryRun = false
    /// `fieldValidation=Strict`: unknown fields are an error instead of being dropped.
    var strictFields = false
    var force = false
}

/// Options of a delete request, from the query and from a `DeleteOptions` body.
struct DeleteOptions: Sendable {
    enum Propagation: String, Sendable { case background = "Background", foreground = "Foreground", orphan = "Orphan" }
    var propagation: Propagation?
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var dryRun = false
    var gracePeriodSeconds: Int?
}

/// A continue token: the snapshot resourceVersion of the first page and the key to continue after.
/// Encoded as kube-apiserver does: base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":"KEY\u0000"}`.
struct ContinueToken: Sendable {
    var resourceVersion: UInt64
    var start: String

    func encoded() -> String {
        let json: JSON = ["v": "meta.k8s.io/v1", "rv": .int(Int64(resourceVersion)), "start": .string(start + "\u{0}")]
        return Base64.encode(json.serialized())
    }

    init(resourceVersion: UInt64, start: String) {
        self.resourceVersion = resourceVersion
        self.start = start
    }

    init(decoding token: String) throws(APIError) {
        guard let bytes = Base64.decode(token), let json = try? JSON.parse(bytes),
              json["v"]?.stringValue == "meta.k8s.io/v1", let rv = json["rv"]?.intValue, rv > 0,
              var start = json["start"]?.stringValue
        else {
            throw APIError(code: 400, reason: "BadRequest", message: "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        }
        if start.hasSuffix("\u{0}") { start.removeLast() }
        self.resourceVersion = UInt64(rv)
        self.start = start
    }
}
