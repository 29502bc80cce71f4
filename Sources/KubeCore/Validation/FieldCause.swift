/// One cause of an Invalid (422) `Status`: what is wrong with which field.
public struct FieldCause: Sendable, Hashable, CustomStringConvertible {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`,
    /// `FieldValueDuplicate`, `FieldValueTooLong`, `FieldValueTypeInvalid`, `FieldValueForbidden`, …
    public var reason: String
    public var message: String
    public var field: String

    public init(reason: String, message: String, field: String) {
        self.reason = reason
        self.message = message
        self.field = field
    }

    public var description: String { "\(field): \(message)" }

    public static func required(_ field: String, _ detail: String = "") -> FieldCause {
        FieldCause(reason: "FieldValueRequired", message: detail.isEmpty ? "Required value" : "Required value: \(detail)", field: field)
    }

    public static func invalid(_ field: String, _ value: JSON, _ detail: String) -> FieldCause {
        FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \(value.serializedString()): \(detail)", field: field)
    }

    public static func notSupported(_ field: String, _ value: JSON, supported: [String]) -> FieldCause {
        FieldCause(reason: "FieldValueNotSupported",
                   message: "Unsupported value: \(value.serializedString()): supported values: " + supported.map { "\"\($0)\"" }.joined(separator: ", "),
                   field: field)
    }

    public static func typeInvalid(_ field: String, _ value: JSON, _ detail: String) -> FieldCause {
        FieldCause(reason: "FieldValueTypeInvalid", message: "Invalid value: \(value.serializedString()): \(detail)", field: field)
    }

    public static func tooLong(_ field: String, max: Int) -> FieldCause {
        FieldCause(reason: "FieldValueTooLong", message: "Too long: may not be more than \(max) bytes", field: field)
    }
}
