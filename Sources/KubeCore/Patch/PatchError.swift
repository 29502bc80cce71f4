/// Why a patch could not be applied.
///
/// The two kinds exist because the API server answers them differently: a
/// patch that is not a valid patch at all is the client's syntax error (400
/// BadRequest), while a valid patch that does not fit the stored object is a
/// semantic error about this object (422 Invalid). Callers switch on `kind`;
/// `message` is for people and names the operation or field at fault.
public struct PatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The patch document itself is not a valid patch: wrong shape, unknown
        /// operation or directive, bad pointer syntax, missing member.
        case malformed
        /// The patch is well formed but cannot be applied to this document:
        /// a path that does not exist, a failed `test`, an index out of range,
        /// a keyed list element without its merge key.
        case failed
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func malformed(_ message: String) -> PatchError { PatchError(.malformed, message) }
    static func failed(_ message: String) -> PatchError { PatchError(.failed, message) }

    /// The same error with `context` (an operation or a location) in front.
    func prefixed(_ context: String) -> PatchError { PatchError(kind, "\(context): \(message)") }
}
