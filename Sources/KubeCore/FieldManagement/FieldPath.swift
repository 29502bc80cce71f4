/// A path from the object root to a field, list element or set value.
public struct FieldPath: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var elements: [FieldPathElement]

    /// The root: the object itself.
    public init() { self.elements = [] }
    public init(_ elements: [FieldPathElement]) { self.elements = elements }
    public init(arrayLiteral elements: FieldPathElement...) { self.elements = elements }

    /// A path of field names only: `FieldPath(fields: "spec", "replicas")`.
    public init(fields: String...) { self.elements = fields.map(FieldPathElement.field) }

    public var count: Int { elements.count }
    public var isEmpty: Bool { elements.isEmpty }
    public var last: FieldPathElement? { elements.last }

    public func appending(_ element: FieldPathElement) -> FieldPath {
        FieldPath(elements + [element])
    }

    /// The path without its last element; nil for the root.
    public var parent: FieldPath? {
        elements.isEmpty ? nil : FieldPath(Array(elements.dropLast()))
    }

    /// Whether `prefix` leads to this path (a path is its own prefix).
    public func hasPrefix(_ prefix: FieldPath) -> Bool {
        prefix.count <= count && elements.starts(with: prefix.elements)
    }

    /// As Kubernetes prints it: `.spec.containers[name="nginx"].image`.
    public var description: String {
        elements.map(\.kubernetesDescription).joined()
    }
}
