import KubeCore

extension ObjectStore {
    /// The result of a write: the object as stored (or as it would be, for a dry run).
    struct WriteResult {
        var object: StoredObject
        var created: Bool
    }

    // MARK: Create

    func create(_ info: ResourceInfo, version: String, namespace: String?, body: JSON, options: WriteOptions) throws(APIError) -> WriteResult {
        try checkIdentity(body, info: info, version: version, namespace: namespace, name: nil)
        try validateManagedFields(body, info: info)
        var body = body
        if info.namespaced { body[path: ["metadata", "namespace"]] = .string(namespace ?? "") }
        return try state.withLock { (state) throws(APIError) -> WriteResult in
            var object = body
            if (object[path: ["metadata", "name"]]?.stringValue ?? "").isEmpty {
                guard let prefix = object[path: ["metadata", "generateName"]]?.stringValue, !prefix.isEmpty else {
                    throw APIError.invalid(info, name: "", causes: [FieldCause(reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name")])
                }
                object[path: ["metadata", "name"]] = .string(generatedName(prefix, info: info, namespace: namespace ?? "", state: state))
            }
            object = Admission.prepareCreate(object, info: info, version: version, state: &state)
            object = try Admission.validate(object, info: info, version: version, strictFields: options.strictFields)
            object = FieldManager.update(old: nil, new: object, manager: options.fieldManager, apiVersion: info.apiVersion(version),
                                         subresource: nil, schema: info.schema, time: Timestamp.now())
            return try insert(object, info: info, options: options, state: &state)
        }
    }

    /// Stores a new object after the checks every create shares (namespace exists
    /// and is not terminating, name is free, CRDs are well formed).
    private func insert(_ object: JSON, info: ResourceInfo, options: WriteOptions, state: inout State) throws(APIError) -> WriteResult {
        var object = object
        let stored = StoredObject(object, resourceVersion: state.resourceVersion)
        if info.namespaced {
            let nsInfo = state.resources.builtin("", "namespaces")
            guard let ns = state.tables[nsInfo.groupResource]?[ObjectKey(namespace: "", name: stored.key.namespace)] else {
                throw APIError.namespaceNotFound(stored.key.namespace)
            }
            if ns.isBeingDeleted {
                throw APIError(code: 403, reason: "Forbidden",
                               message: "\(info.qualifiedResource) \"\(stored.key.name)\" is forbidden: unable to create new content in namespace \(stored.key.namespace) because it is being terminated",
                               details: APIError.detailsFor(name: stored.key.name, resource: info, causes: [FieldCause(reason: "NamespaceTerminating", message: "namespace \(stored.key.namespace) is being terminated", field: "metadata.namespace")]))
            }
        }
        if state.tables[info.groupResource]?[stored.key] != nil {
            throw APIError.alreadyExists(info, name: stored.key.name)
        }
        var crdInfo: ResourceInfo?
        if info.groupResource == CustomResourceDefinitions.resource {
            let defined = try CustomResourceDefinitions.resourceInfo(from: object, state: state)
            object = CustomResourceDefinitions.establish(object, info: defined)
            crdInfo = defined
        }
        if options.dryRun { return WriteResult(object: StoredObject(object, resourceVersion: state.resourceVersion), created: true) }
        if let crdInfo { state.resources.register(crdInfo) }
        let created = commit(object, info: info, type: .added, previous: nil, state: &state)
        collectIfOwnersAreGone(created, info: info, state: &state)
        return WriteResult(object: created, created: true)
    }

    private func generatedName(_ prefix: String, info: ResourceInfo, namespace: String, state: State) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        while true {
            let suffix = String((0..<5).map { _ in alphabet.randomElement()! })
            let name = String(prefix.prefix(58)) + suffix
            if state.tables[info.groupResource]?[ObjectKey(namespace: namespace, name: name)] == nil { return name }
        }
    }

    // MARK: Update and patch

    /// PUT: replaces the object (or its status), with optimistic concurrency on `metadata.resourceVersion`.
    func update(_ info: ResourceInfo, version: String, key: ObjectKey, subresource: String?, body: JSON, options: WriteOptions) throws(APIError) -> WriteResult {
        try checkIdentity(body, info: info, version: version, namespace: info.namespaced ? key.namespace : nil, name: key.name)
        try validateManagedFields(body, info: info)
        return try state.withLock { (state) throws(APIError) -> WriteResult in
            guard let current = state.tables[info.groupResource]?[key] else { throw APIError.notFound(info, name: key.name) }
            if (body[path: ["metadata", "resourceVersion"]]?.stringValue ?? "").isEmpty && !info.allowUnconditionalUpdate {
                throw APIError.invalid(info, name: key.name, causes: [FieldCause(reason: "FieldValueInvalid", message: "Invalid value: 0x0: must be specified for an update", field: "metadata.resourceVersion")])
            }
            return try write(body, over: current, info: info, version: version, subresource: subresource, options: options, state: &state)
        }
    }

    /// The common end of update and non-apply patch: the body's resourceVersion,
    /// when set, must be the current one; then the strategy, field ownership and store.
    private func write(_ body: JSON, over current: StoredObject, info: ResourceInfo, version: String, subresource: String?,
                       options: WriteOptions, state: inout State) throws(APIError) -> WriteResult
    {
        let rv = body[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
        if !rv.isEmpty && rv != String(current.resourceVersion) {
            throw APIError.conflict(info, name: current.key.name, APIError.modifiedMessage)
        }
        var object = Admission.prepareUpdate(body, current: current, info: info, subresource: subresource, state: &state)
        object = FieldManager.update(old: current.object, new: object, manager: options.fieldManager, apiVersion: info.apiVersion(version),
                                     subresource: subresource, schema: info.schema, time: Timestamp.now())
        return try replace(current, with: object, info: info, version: version, options: options, state: &state)
    }

    enum PatchType: String, Sendable {
        case json = "application/json-patch+json"
        case merge = "application/merge-patch+json"
        case strategic = "application/strategic-merge-patch+json"
        case apply = "application/apply-patch+yaml"
        case applyCBOR = "application/apply-patch+cbor"
    }

    /// PATCH: applies a JSON, merge, strategic or apply patch to the current object.
    /// An apply patch of a missing object creates it.
    func patch(_ info: ResourceInfo, version: String, key: ObjectKey, subresource: String?, type: PatchType, patch: JSON, options: WriteOptions) throws(APIError) -> WriteResult {
        if type == .strategic && info.isCustom {
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
        }
        if type == .apply {
            try checkIdentity(patch, info: info, version: version, namespace: info.namespaced ? key.namespace : nil, name: key.name, requireTypeMeta: true)
            do {
                try FieldManager.validateApplyConfiguration(patch)
            } catch {
                throw Self.apiError(error, info: info, name: key.name)
            }
        }
        return try state.withLock { (state) throws(APIError) -> WriteResult in
            let current = state.tables[info.groupResource]?[key]
            if type == .apply {
                return try apply(patch, current: current, info: info, version: version, key: key, subresource: subresource, options: options, state: &state)
            }
            guard let current else { throw APIError.notFound(info, name: key.name) }
            var document = current.object
            document["apiVersion"] = .string(info.apiVersion(version))
            var patched: JSON
            do throws(PatchError) {
                switch type {
                case .json: patched = try JSONPatch.apply(patch, to: document)
                case .merge: patched = MergePatch.apply(patch, to: document)
                case .strategic: patched = try StrategicMergePatch.apply(patch, to: document, schema: info.schema)
                case .apply, .applyCBOR: preconditionFailure("handled above")
                }
            } catch {
                switch error.kind {
                case .malformed: throw APIError.badRequest(error.message)
                case .failed: throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(error.message)")
                }
            }
            guard patched.objectValue != nil else { throw APIError.badRequest("the patch turned the object into a \(patched.typeName)") }
            try checkIdentity(patched, info: info, version: version, namespace: info.namespaced ? key.namespace : nil, name: key.name)
            return try write(patched, over: current, info: info, version: version, subresource: subresource, options: options, state: &state)
        }
    }

    /// Server-side apply: merge the applied configuration under the manager's ownership.
    private func apply(_ applied: JSON, current: StoredObject?, info: ResourceInfo, version: String, key: ObjectKey, subresource: String?, options: WriteOptions, state: inout State) throws(APIError) -> WriteResult {
        var config = applied
        config[path: ["metadata", "managedFields"]] = nil
        if subresource == "status" {
            guard current != nil else { throw APIError.notFound(info, name: key.name) }
            config = ["apiVersion": config["apiVersion"] ?? .null, "kind": config["kind"] ?? .null,
                      "metadata": ["name": .string(key.name)], "status": config["status"] ?? .emptyObject]
        } else if info.hasStatus {
            config["status"] = nil
        }
        if info.namespaced { config[path: ["metadata", "namespace"]] = .string(key.namespace) }
        var currentObject = current?.object
        currentObject?["apiVersion"] = .string(info.apiVersion(version))
        let merged: JSON
        do {
            merged = try FieldManager.apply(current: currentObject, applied: config, manager: options.fieldManager, force: options.force,
                                            apiVersion: info.apiVersion(version), subresource: subresource, schema: info.schema, time: Timestamp.now())
        } catch {
            throw APIError(code: 409, reason: "Conflict", message: error.description,
                           details: APIError.detailsFor(name: key.name, resource: info, causes: error.conflicts.map {
                               FieldCause(reason: "FieldManagerConflict", message: $0.message, field: $0.field)
                           }))
        }
        guard let current else {
            var object = Admission.prepareCreate(merged, info: info, version: version, state: &state)
            object[path: ["metadata", "managedFields"]] = merged[path: ["metadata", "managedFields"]]
            object = try Admission.validate(object, info: info, version: version, strictFields: options.strictFields)
            return try insert(object, info: info, options: options, state: &state)
        }
        let object = Admission.prepareUpdate(merged, current: current, info: info, subresource: subresource, state: &state)
        return try replace(current, with: object, info: info, version: version, options: options, state: &state)
    }

    /// Stores the new state of an existing object. A write that changes nothing
    /// is not a write: no new resourceVersion, no event. Removing the last
    /// finalizer of an object being deleted deletes it.
    private func replace(_ current: StoredObject, with object: JSON, info: ResourceInfo, version: String, options: WriteOptions, state: inout State) throws(APIError) -> WriteResult {
        var object = try Admission.validate(object, info: info, version: version, strictFields: options.strictFields)
        if current.isBeingDeleted {
            let added = Set(object[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? []).subtracting(current.finalizers)
            if !added.isEmpty {
                throw APIError.forbidden("\(info.qualifiedResource) \"\(current.key.name)\" is forbidden: no new finalizers can be added if the object is being deleted, found new finalizers \(added.sorted())")
            }
        }
        var crdInfo: ResourceInfo?
        if info.groupResource == CustomResourceDefinitions.resource {
            let defined = try CustomResourceDefinitions.resourceInfo(from: object, state: state)
            object = CustomResourceDefinitions.establish(object, info: defined)
            crdInfo = defined
        }
        if unchanged(object, current.object) { return WriteResult(object: current, created: false) }
        if options.dryRun { return WriteResult(object: StoredObject(object, resourceVersion: current.resourceVersion), created: false) }
        if let crdInfo { state.resources.register(crdInfo) }
        if current.isBeingDeleted && (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty {
            let removed = commit(object, info: info, type: .deleted, previous: current, state: &state)
            afterRemoval(removed, info: info, state: &state)
            return WriteResult(object: removed, created: false)
        }
        let updated = commit(object, info: info, type: .modified, previous: current, state: &state)
        collectIfOwnersAreGone(updated, info: info, state: &state)
        return WriteResult(object: updated, created: false)
    }

    /// Equal but for the times recorded in managedFields.
    private func unchanged(_ a: JSON, _ b: JSON) -> Bool {
        func strip(_ json: JSON) -> JSON {
            var json = json
            if let entries = json[path: ["metadata", "managedFields"]]?.arrayValue {
                json[path: ["metadata", "managedFields"]] = .array(entries.map { var e = $0; e["time"] = nil; return e })
            }
            return json
        }
        return strip(a) == strip(b)
    }

    /// `metadata.managedFields` sent by a client must be well formed; custom
    /// resources are not checked, as on a real server.
    private func validateManagedFields(_ body: JSON, info: ResourceInfo) throws(APIError) {
        guard !info.isCustom else { return }
        do {
            try FieldManager.validateEntries(body)
        } catch {
            throw Self.apiError(error, info: info, name: body[path: ["metadata", "name"]]?.stringValue ?? "")
        }
    }

    static func apiError(_ error: ManagedFieldsError, info: ResourceInfo, name: String) -> APIError {
        switch error.kind {
        case .malformed: return APIError.badRequest(error.description)
        case .invalid: return APIError.invalid(info, name: name, causes: error.causes)
        }
    }

    /// The body's apiVersion, kind, namespace and name must agree with the URL.
    func checkIdentity(_ body: JSON, info: ResourceInfo, version: String, namespace: String?, name: String?, requireTypeMeta: Bool = false) throws(APIError) {
        guard body.objectValue != nil else {
            throw APIError.badRequest("the body of the request must be a JSON object, got \(body.typeName)")
        }
        // Fields the server decodes into typed metadata must have their types, or the body does not decode.
        for (field, value) in [("apiVersion", body["apiVersion"]), ("kind", body["kind"])] {
            if let value, value.stringValue == nil { throw APIError.badRequest("\(field) must be a string, got \(value.typeName)") }
        }
        if let metadata = body["metadata"] {
            guard metadata.objectValue != nil else { throw APIError.badRequest("metadata must be an object, got \(metadata.typeName)") }
            for field in ["name", "generateName", "namespace", "resourceVersion", "uid"] {
                if let value = metadata[field], value.stringValue == nil, !value.isNull {
                    throw APIError.badRequest("metadata.\(field) must be a string, got \(value.typeName)")
                }
            }
            for field in ["labels", "annotations"] {
                if let value = metadata[field], value.objectValue == nil, !value.isNull {
                    throw APIError.badRequest("metadata.\(field) must be an object, got \(value.typeName)")
                }
            }
        }
        let apiVersion = body["apiVersion"]?.stringValue ?? ""
        let kind = body["kind"]?.stringValue ?? ""
        if requireTypeMeta && (apiVersion.isEmpty || kind.isEmpty) {
            throw APIError.badRequest(apiVersion.isEmpty ? "apiVersion must be set in apply patch" : "kind must be set in apply patch")
        }
        if !apiVersion.isEmpty && apiVersion != info.apiVersion(version) {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(info.apiVersion(version)))")
        }
        if !kind.isEmpty && kind != info.kind {
            throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(info.kind))")
        }
        if let bodyNamespace = body[path: ["metadata", "namespace"]]?.stringValue, !bodyNamespace.isEmpty, info.namespaced, bodyNamespace != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if let name, let bodyName = body[path: ["metadata", "name"]]?.stringValue, !bodyName.isEmpty, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
    }
}
