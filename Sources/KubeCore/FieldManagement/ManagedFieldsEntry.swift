/// One entry of `metadata.managedFields`.
public struct ManagedFieldsEntry: Sendable, Hashable {
    public enum Operation: String, Sendable { case apply = "Apply", update = "Update" }

    public var manager: String
    public var operation: Operation
    public var apiVersion: String
    public var time: String
    public var subresource: String?
    public var fields: FieldSet

    public init(manager: String, operation: Operation, apiVersion: String, time: String, subresource: String?, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    public var json: JSON {
        var entry: JSON = ["manager": .string(manager), "operation": .string(operation.rawValue), "apiVersion": .string(apiVersion),
                           "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1]
        if let subresource { entry["subresource"] = .string(subresource) }
        return entry
    }

    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(json: JSON, index: Int) throws(DecodingError) {
        let at = "metadata.managedFields[\(index)]"
        guard case .object = json else { throw DecodingError(message: "\(at): must be an object") }
        guard let operation = json["operation"]?.stringValue.flatMap(Operation.init(rawValue:)) else {
            throw DecodingError(message: "\(at).operation: must be Apply or Update")
        }
        if let type = json["fieldsType"]?.stringValue, type != "FieldsV1" {
            throw DecodingError(message: "\(at).fieldsType: must be FieldsV1, got \"\(type)\"")
        }
        self.manager = json["manager"]?.stringValue ?? ""
        self.operation = operation
        self.apiVersion = json["apiVersion"]?.stringValue ?? ""
        self.time = json["time"]?.stringValue ?? ""
        self.subresource = json["subresource"]?.stringValue
        do {
            self.fields = try FieldSet(fieldsV1: json["fieldsV1"] ?? .emptyObject)
        } catch {
            throw DecodingError(message: "\(at).fieldsV1: \(error.message)")
        }
    }

    func sameOwner(manager: String, operation: Operation, apiVersion: String, subresource: String?) -> Bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
            && (operation == .apply || self.apiVersion == apiVersion)
    }
}
