/// One cause of an Invalid (422) `Status`: what is wrong with which field.
///
/// `reason` is apimachinery's `field.ErrorType` (`FieldValueRequired`,
/// `FieldValueInvalid`, `FieldValueTypeInvalid`, …) and `message` is the error
/// body without the field, exactly as `field.Error.ErrorBody()` writes it,
/// because the API server copies both into `details.causes` and clients match
/// on them.
public struct FieldCause: Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var message: String
    public var field: String

    public init(reason: String, message: String, field: String) {
        self.reason = reason
        self.message = message
        self.field = field
    }

    /// `field: message`, the form the API server joins into a Status message.
    public var description: String { "\(field): \(message)" }
}

extension FieldCause {
    /// The `field.ErrorType` strings of apimachinery.
    public enum Reason {
        public static let required = "FieldValueRequired"
        public static let invalid = "FieldValueInvalid"
        public static let typeInvalid = "FieldValueTypeInvalid"
        public static let notSupported = "FieldValueNotSupported"
        public static let duplicate = "FieldValueDuplicate"
        public static let forbidden = "FieldValueForbidden"
        public static let tooLong = "FieldValueTooLong"
        public static let tooMany = "FieldValueTooMany"
        public static let notFound = "FieldValueNotFound"
        public static let `internal` = "InternalError"
    }

    static func body(_ kind: String, value: String?, detail: String) -> String {
        var text = kind
        if let value { text += ": " + value }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    /// `field.Required`: `Required value` or `Required value: detail`.
    public static func required(_ field: String, _ detail: String = "") -> FieldCause {
        FieldCause(reason: Reason.required, message: body("Required value", value: nil, detail: detail), field: field)
    }

    /// `field.Invalid`: `Invalid value: "x": detail`, the value printed as Go prints it.
    public static func invalid(_ field: String, _ value: JSON, _ detail: String) -> FieldCause {
        FieldCause(reason: Reason.invalid, message: body("Invalid value", value: GoFormat.value(value), detail: detail), field: field)
    }

    /// `field.TypeInvalid`: worded like Invalid, with its own reason.
    public static func typeInvalid(_ field: String, _ value: JSON, _ detail: String) -> FieldCause {
        FieldCause(reason: Reason.typeInvalid, message: body("Invalid value", value: GoFormat.value(value), detail: detail), field: field)
    }

    /// `field.NotSupported`: `Unsupported value: "x": supported values: "a", "b"`.
    public static func notSupported(_ field: String, _ value: JSON, supported: [String]) -> FieldCause {
        let detail = supported.isEmpty ? "" : "supported values: " + supported.map(GoFormat.quote).joined(separator: ", ")
        return FieldCause(reason: Reason.notSupported, message: body("Unsupported value", value: GoFormat.value(value), detail: detail), field: field)
    }

    /// `field.Duplicate`: `Duplicate value: "x"`.
    public static func duplicate(_ field: String, _ value: JSON) -> FieldCause {
        FieldCause(reason: Reason.duplicate, message: body("Duplicate value", value: GoFormat.value(value), detail: ""), field: field)
    }

    /// `field.Forbidden`: `Forbidden: detail`.
    public static func forbidden(_ field: String, _ detail: String) -> FieldCause {
        FieldCause(reason: Reason.forbidden, message: body("Forbidden", value: nil, detail: detail), field: field)
    }

    /// `field.TooLong`: `Too long: may not be more than 63 bytes` (the value is never shown).
    public static func tooLong(_ field: String, max: Int) -> FieldCause {
        let detail = max < 0 ? "value is too long" : "may not be more than \(max) \(max == 1 ? "byte" : "bytes")"
        return FieldCause(reason: Reason.tooLong, message: body("Too long", value: nil, detail: detail), field: field)
    }

    /// `field.TooMany`: `Too many: 3: must have at most 2 items`.
    public static func tooMany(_ field: String, actual: Int, max: Int) -> FieldCause {
        let detail = max < 0 ? "has too many items" : "must have at most \(max) \(max == 1 ? "item" : "items")"
        return FieldCause(reason: Reason.tooMany, message: body("Too many", value: actual < 0 ? nil : String(actual), detail: detail), field: field)
    }
}
