/// Server-side apply conflicts: fields another manager owns with another value.
public struct ApplyConflictError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Conflict: Sendable, Equatable {
        public var manager: String
        public var apiVersion: String
        public var field: String
        /// The per-field message of the Status cause.
        public var message: String { "conflict with \"\(manager)\" using \(apiVersion)" }
    }

    public var conflicts: [Conflict]

    public var description: String {
        if conflicts.count == 1 {
            return "Apply failed with 1 conflict: \(conflicts[0].message): \(conflicts[0].field)"
        }
        var text = "Apply failed with \(conflicts.count) conflicts:"
        var seen: [String] = []
        for conflict in conflicts where !seen.contains(conflict.message) { seen.append(conflict.message) }
        for owner in seen {
            text += " conflicts with" + owner.dropFirst("conflict with".count) + ":"
            for conflict in conflicts where conflict.message == owner { text += "\n- " + conflict.field }
            text += "\n"
        }
        return String(text.dropLast())
    }
}
