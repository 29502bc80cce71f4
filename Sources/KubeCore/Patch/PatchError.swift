/// Why a patch could not be applied.
public struct PatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The patch document itself is not a valid patch (the API server answers 400).
        case malformed
        /// The patch is well formed but does not apply to this document (422).
        case failed
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
