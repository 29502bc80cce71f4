/// A request's `metadata.managedFields` that kube-apiserver refuses.
///
/// `.malformed` is what a typed decode of the body rejects (a list entry
/// that is not an object, a string field holding a number, a time that is
/// not RFC 3339): the server answers 400 Bad Request with `description`.
/// For custom resources the real server decodes leniently and drops such
/// entries instead, so callers may skip the check for them.
/// `.invalid` is what object-meta validation rejects: 422 Invalid with one
/// Status cause per entry of `causes`.
public struct ManagedFieldsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case malformed
        case invalid
    }

    /// One Status cause: `reason` (FieldValueTooLong, FieldValueInvalid, …),
    /// `message` as Kubernetes words it, and the `field` path.
    public typealias Cause = FieldCause

    public var kind: Kind
    public var causes: [Cause]

    public var description: String { causes.map(\.description).joined(separator: ", ") }
}

extension FieldManager {
    /// The longest manager name the API accepts.
    public static let maxManagerLength = 128
    /// The longest subresource name an entry may record.
    public static let maxSubresourceLength = 256

    /// Checks the `metadata.managedFields` a client sent with a create,
    /// update or non-apply patch, as kube-apiserver would.
    ///
    /// Entries that are well typed but unusable (an unknown operation, a
    /// missing fieldsType, an unreadable `fieldsV1`) are not errors: the real
    /// server ignores such a list and keeps the live object's entries, and so
    /// does `update(old:new:…)`. What does fail is a body a typed decode
    /// rejects (`.malformed`) and a manager or subresource name validation
    /// rejects (`.invalid`).
    public static func validateEntries(_ object: JSON) throws(ManagedFieldsError) {
        guard let value = object[path: ["metadata", "managedFields"]], !value.isNull else { return }
        guard case .array(let entries) = value else {
            throw malformed("metadata.managedFields", "expected a list, got \(value.typeName)")
        }
        var causes: [ManagedFieldsError.Cause] = []
        for (i, entry) in entries.enumerated() {
            let at = "metadata.managedFields[\(i)]"
            guard case .object(let members) = entry else { throw malformed(at, "expected an object, got \(entry.typeName)") }
            for key in ["manager", "operation", "apiVersion", "fieldsType", "subresource", "time"] {
                guard let member = members[key], !member.isNull else { continue }
                guard case .string(let text) = member else {
                    throw malformed("\(at).\(key)", "expected a string, got \(member.typeName)")
                }
                if key == "time" && ManagedFieldsTime.parse(text) == nil {
                    throw malformed("\(at).time", "parsing time \(GoFormat.quote(text)) as RFC 3339 failed")
                }
            }
            let manager = members["manager"]?.stringValue ?? ""
            if manager.utf8.count > maxManagerLength {
                causes.append(.init(reason: "FieldValueTooLong", message: "Too long: may not be more than \(maxManagerLength) bytes",
                                    field: "\(at).manager"))
            }
            var position = 0
            for scalar in manager.unicodeScalars {
                if !GoFormat.isPrintable(scalar) {
                    let detail = "invalid character \(unicodeName(scalar)) (at position \(position))"
                    causes.append(.init(reason: "FieldValueInvalid", message: "Invalid value: \(GoFormat.quote(manager)): \(detail)",
                                        field: "\(at).manager"))
                }
                position += String(scalar).utf8.count
            }
            if (members["subresource"]?.stringValue ?? "").utf8.count > maxSubresourceLength {
                causes.append(.init(reason: "FieldValueTooLong", message: "Too long: may not be more than \(maxSubresourceLength) bytes",
                                    field: "\(at).subresource"))
            }
        }
        if !causes.isEmpty { throw ManagedFieldsError(kind: .invalid, causes: causes) }
    }

    /// An apply configuration may not carry managedFields: kube-apiserver
    /// answers 400 `metadata.managedFields must be nil` (even for `[]`).
    public static func validateApplyConfiguration(_ applied: JSON) throws(ManagedFieldsError) {
        guard case .array? = applied[path: ["metadata", "managedFields"]] else { return }
        throw ManagedFieldsError(kind: .malformed, causes: [
            .init(reason: "FieldValueInvalid", message: "metadata.managedFields must be nil", field: "metadata.managedFields"),
        ])
    }

    private static func malformed(_ field: String, _ detail: String) -> ManagedFieldsError {
        ManagedFieldsError(kind: .malformed, causes: [.init(reason: "FieldValueInvalid", message: detail, field: field)])
    }

    /// Go's `%#U` for a character that is not printable: `U+0007`.
    private static func unicodeName(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
