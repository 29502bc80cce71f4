/// One entry of `metadata.managedFields`: the fields one manager owns
/// through one kind of write.
public struct ManagedFieldsEntry: Sendable, Hashable {
    public enum Operation: String, Sendable, Hashable {
        case apply = "Apply"
        case update = "Update"
    }

    public var manager: String
    public var operation: Operation
    /// The API version the fields are named in. For an Apply entry it is the
    /// version of the latest apply; Update entries are kept per version.
    public var apiVersion: String
    /// RFC 3339, second precision. Absent when the manager never changed the
    /// object (an apply that was a no-op for a new manager).
    public var time: String?
    /// The subresource written through (`status`, `scale`), nil for the main resource.
    public var subresource: String?
    public var fields: FieldSet

    public init(manager: String, operation: Operation, apiVersion: String, time: String?, subresource: String?, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource?.isEmpty == true ? nil : subresource
        self.fields = fields
    }

    /// The entry as kube-apiserver writes it; empty values are left out as Go's `omitempty` does.
    public var json: JSON {
        var entry: [String: JSON] = ["operation": .string(operation.rawValue), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1]
        if !manager.isEmpty { entry["manager"] = .string(manager) }
        if !apiVersion.isEmpty { entry["apiVersion"] = .string(apiVersion) }
        if let time { entry["time"] = .string(time) }
        if let subresource { entry["subresource"] = .string(subresource) }
        return .object(entry)
    }

    /// Why an entry cannot be used. The field manager does not fail a write
    /// for this: it falls back to the live object's entries, as kube-apiserver does.
    public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        public var index: Int
        public var message: String
        public var description: String { "metadata.managedFields[\(index)]: \(message)" }
    }

    /// Decodes an entry with the rules kube-apiserver's field manager applies
    /// before it trusts one: operation Apply or Update, a non-empty apiVersion,
    /// fieldsType `FieldsV1`, and a readable `fieldsV1`.
    public init(json: JSON, index: Int = 0) throws(DecodingError) {
        func fail(_ message: String) -> DecodingError { DecodingError(index: index, message: message) }
        guard case .object(let entry) = json else { throw fail("must be an object, got \(json.typeName)") }
        func string(_ key: String) throws(DecodingError) -> String? {
            switch entry[key] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case let other?: throw fail("\(key) must be a string, got \(other.typeName)")
            }
        }
        guard let operation = Operation(rawValue: try string("operation") ?? "") else {
            throw fail("operation must be `Apply` or `Update`")
        }
        let apiVersion = try string("apiVersion") ?? ""
        guard !apiVersion.isEmpty else { throw fail("apiVersion must not be empty") }
        switch try string("fieldsType") ?? "" {
        case "FieldsV1": break
        case "": throw fail("missing fieldsType")
        case let other: throw fail("invalid fieldsType \(GoFormat.quote(other))")
        }
        let fields: FieldSet
        do {
            fields = try FieldSet(fieldsV1: entry["fieldsV1"] ?? .null)
        } catch {
            throw fail(error.description)
        }
        self.init(manager: try string("manager") ?? "", operation: operation, apiVersion: apiVersion,
                  time: try string("time"), subresource: try string("subresource"), fields: fields)
    }

    var identity: ManagerIdentity {
        ManagerIdentity(manager: manager, operation: operation, apiVersion: apiVersion, subresource: subresource)
    }
}
