/// A server-side apply that would change fields other managers own.
///
/// The server answers 409 Conflict with `description` as the message and
/// one Status cause per conflict: reason `FieldManagerConflict`, the
/// conflict's `message` and its `field`.
public struct ApplyConflictError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Conflict: Sendable, Hashable {
        /// The other manager's name.
        public var manager: String
        /// The field, as Kubernetes prints paths: `.spec.containers[name="nginx"].image`.
        public var field: String
        /// The cause message: `conflict with "hpa" using autoscaling/v2`.
        public var message: String
        public var path: FieldPath

        public init(manager: String, field: String, message: String, path: FieldPath) {
            self.manager = manager
            self.field = field
            self.message = message
            self.path = path
        }
    }

    /// Grouped by manager (in kube-apiserver's identifier order), each
    /// manager's fields in field-set order.
    public var conflicts: [Conflict]

    public init(conflicts: [Conflict]) { self.conflicts = conflicts }

    /// The conflicts of each manager, in the order the message lists them.
    init(owners: [(identity: ManagerIdentity, fields: FieldSet)]) {
        var conflicts: [Conflict] = []
        for owner in owners.sorted(by: { $0.identity.identifier < $1.identity.identifier }) {
            let message = "conflict with \(owner.identity.displayName)"
            for path in owner.fields.orderedPaths {
                conflicts.append(Conflict(manager: owner.identity.manager, field: path.description, message: message, path: path))
            }
        }
        self.conflicts = conflicts
    }

    /// The Status message, worded as kube-apiserver words it:
    /// `Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas`, or for several
    /// `Apply failed with 2 conflicts: conflicts with "a":` followed by one `- .field` line per conflict.
    public var description: String {
        if conflicts.count == 1 {
            return "Apply failed with 1 conflict: \(conflicts[0].message): \(conflicts[0].field)"
        }
        var lines: [String] = []
        var previous: String?
        for conflict in conflicts {
            if conflict.message != previous {
                lines.append("conflicts with" + conflict.message.dropFirst("conflict with".count) + ":")
                previous = conflict.message
            }
            lines.append("- " + conflict.field)
        }
        return "Apply failed with \(conflicts.count) conflicts: " + lines.joined(separator: "\n")
    }
}
