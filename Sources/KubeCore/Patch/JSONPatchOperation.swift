/// One decoded JSON Patch operation.
///
/// Decoding has already guaranteed the members each kind needs (`value` for
/// add, replace and test; `from` for move and copy), so applying only has to
/// deal with the document. Errors carry the operation's index and name so a
/// client can find the offending entry in a long patch.
struct JSONPatchOperation: Sendable, Equatable {
    enum Kind: String, Sendable {
        case add, remove, replace, move, copy, test
    }

    var index: Int
    var kind: Kind
    var path: JSONPointer
    var from: JSONPointer?
    var value: JSON?

    init(index: Int, kind: Kind, path: JSONPointer, from: JSONPointer? = nil, value: JSON? = nil) {
        self.index = index
        self.kind = kind
        self.path = path
        self.from = from
        self.value = value
    }

    var context: String { "op \(index) (\(kind.rawValue))" }

    func apply(to document: JSON) throws(PatchError) -> JSON {
        do {
            return try applyUnlabelled(to: document)
        } catch {
            throw error.prefixed(context)
        }
    }

    private func applyUnlabelled(to document: JSON) throws(PatchError) -> JSON {
        switch kind {
        case .add:
            return try document.adding(value ?? .null, at: path)
        case .remove:
            return try document.removing(at: path)
        case .replace:
            return try document.replacing(at: path, with: value ?? .null)
        case .move:
            let source = from ?? path
            if source == path {
                // RFC 6902 4.4: moving a value onto itself is a no-op, but the value must exist.
                _ = try sourceValue(at: source, in: document)
                return document
            }
            let moved = try sourceValue(at: source, in: document)
            return try document.removing(at: source).adding(moved, at: path)
        case .copy:
            return try document.adding(try sourceValue(at: from ?? path, in: document), at: path)
        case .test:
            let expected = value ?? .null
            let actual = try document.value(at: path)
            guard actual.isEquivalent(to: expected) else {
                throw .failed("test failed: the value at \"\(path)\" is \(actual.serializedString()), not \(expected.serializedString())")
            }
            return document
        }
    }

    /// The value at `from`, with a message that says it was the source that was missing.
    private func sourceValue(at source: JSONPointer, in document: JSON) throws(PatchError) -> JSON {
        do {
            return try document.value(at: source)
        } catch {
            throw PatchError(error.kind, "\"from\" \(error.message)")
        }
    }
}
