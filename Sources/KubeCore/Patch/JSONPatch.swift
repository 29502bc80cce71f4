/// RFC 6902 JSON Patch (`application/json-patch+json`) with RFC 6901 pointers.
///
/// The whole patch is decoded before anything is applied, so a patch with a
/// malformed operation anywhere is reported as malformed (400) even when an
/// earlier operation would also fail against this document (422): whether a
/// request is well formed must not depend on the object it is sent to.
/// Operations then apply in order to a copy; on any error the caller's
/// document is untouched, which gives the all-or-nothing behaviour RFC 6902
/// section 5 asks for.
public enum JSONPatch {
    public static func apply(_ patch: JSON, to document: JSON) throws(PatchError) -> JSON {
        let operations = try decode(patch)
        var document = document
        for operation in operations {
            document = try operation.apply(to: document)
        }
        return document
    }

    /// Reads the operations of a patch document, checking everything that can
    /// be checked without the target: the shape, the op names, the members
    /// each op requires and the pointer syntax.
    static func decode(_ patch: JSON) throws(PatchError) -> [JSONPatchOperation] {
        guard case .array(let elements) = patch else {
            throw .malformed("a JSON patch must be an array of operations, got \(patch.typeName)")
        }
        var operations: [JSONPatchOperation] = []
        operations.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            operations.append(try decodeOperation(element, index: index))
        }
        return operations
    }

    private static func decodeOperation(_ element: JSON, index: Int) throws(PatchError) -> JSONPatchOperation {
        guard case .object(let members) = element else {
            throw .malformed("op \(index): an operation must be an object, got \(element.typeName)")
        }
        guard let opValue = members["op"] else {
            throw .malformed("op \(index): missing \"op\"")
        }
        guard let name = opValue.stringValue else {
            throw .malformed("op \(index): \"op\" must be a string, got \(opValue.typeName)")
        }
        guard let kind = JSONPatchOperation.Kind(rawValue: name) else {
            throw .malformed("op \(index): unknown op \"\(name)\" (expected add, remove, replace, move, copy or test)")
        }
        let context = "op \(index) (\(name))"

        func pointer(_ member: String) throws(PatchError) -> JSONPointer {
            guard let value = members[member] else { throw .malformed("\(context): missing \"\(member)\"") }
            guard let text = value.stringValue else {
                throw .malformed("\(context): \"\(member)\" must be a string, got \(value.typeName)")
            }
            do {
                return try JSONPointer(parsing: text)
            } catch {
                throw error.prefixed("\(context): invalid \"\(member)\"")
            }
        }

        let path = try pointer("path")
        var operation = JSONPatchOperation(index: index, kind: kind, path: path)
        switch kind {
        case .add, .replace, .test:
            // A member that is present with a null value is a null value, not a missing one.
            guard let value = members["value"] else { throw .malformed("\(context): missing \"value\"") }
            operation.value = value
        case .move, .copy:
            let from = try pointer("from")
            if kind == .move && from.isProperPrefix(of: path) {
                throw .malformed("\(context): cannot move \"\(from)\" into its own child \"\(path)\"")
            }
            operation.from = from
        case .remove:
            break
        }
        return operation
    }
}
