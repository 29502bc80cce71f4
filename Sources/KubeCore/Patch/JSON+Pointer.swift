/// Reading and rewriting a JSON document at a JSON Pointer: the primitive
/// steps JSON Patch operations are made of.
///
/// Each step checks what RFC 6902 requires of it (the target exists, or at
/// least its parent does) and reports a `failed` error naming the first part
/// of the path that is missing, so the message says exactly where the
/// document and the patch disagree.
extension JSON {
    /// The value `pointer` names, which must exist.
    func value(at pointer: JSONPointer) throws(PatchError) -> JSON {
        var current = self
        for depth in pointer.tokens.indices {
            current = try current.member(of: pointer, at: depth, allowingEnd: false)
        }
        return current
    }

    /// The document with `value` added at `pointer`: an object member is set
    /// (replacing one already there), an array element is inserted before the
    /// index or appended for `-`. The parent must exist.
    func adding(_ value: JSON, at pointer: JSONPointer) throws(PatchError) -> JSON {
        guard let last = pointer.tokens.last else { return value }
        var document = self
        try document.modifyParent(of: pointer, depth: 0) { (parent) throws(PatchError) in
            switch parent {
            case .object(var members):
                members[last] = value
                parent = .object(members)
            case .array(var items):
                items.insert(value, at: try pointer.arrayIndex(at: pointer.tokens.count - 1, count: items.count, allowingEnd: true))
                parent = .array(items)
            default:
                throw .failed("cannot add at \"\(pointer)\": \(pointer.name(ofPrefix: pointer.tokens.count - 1)) is \(parent.typeName.withArticle), not an object or array")
            }
        }
        return document
    }

    /// The document without the value at `pointer`, which must exist. Array
    /// elements after it shift left.
    func removing(at pointer: JSONPointer) throws(PatchError) -> JSON {
        guard let last = pointer.tokens.last else {
            throw .failed("the whole document cannot be removed")
        }
        var document = self
        try document.modifyParent(of: pointer, depth: 0) { (parent) throws(PatchError) in
            switch parent {
            case .object(var members):
                guard members.removeValue(forKey: last) != nil else { throw .failed("path \"\(pointer)\" does not exist") }
                parent = .object(members)
            case .array(var items):
                items.remove(at: try pointer.arrayIndex(at: pointer.tokens.count - 1, count: items.count, allowingEnd: false))
                parent = .array(items)
            default:
                throw JSON.notContainer(parent, pointer: pointer, depth: pointer.tokens.count - 1)
            }
        }
        return document
    }

    /// The document with the value at `pointer`, which must exist, replaced.
    func replacing(at pointer: JSONPointer, with value: JSON) throws(PatchError) -> JSON {
        guard let last = pointer.tokens.last else { return value }
        var document = self
        try document.modifyParent(of: pointer, depth: 0) { (parent) throws(PatchError) in
            switch parent {
            case .object(var members):
                guard members[last] != nil else { throw .failed("path \"\(pointer)\" does not exist") }
                members[last] = value
                parent = .object(members)
            case .array(var items):
                items[try pointer.arrayIndex(at: pointer.tokens.count - 1, count: items.count, allowingEnd: false)] = value
                parent = .array(items)
            default:
                throw JSON.notContainer(parent, pointer: pointer, depth: pointer.tokens.count - 1)
            }
        }
        return document
    }

    /// The child named by the token at `depth`.
    private func member(of pointer: JSONPointer, at depth: Int, allowingEnd: Bool) throws(PatchError) -> JSON {
        switch self {
        case .object(let members):
            guard let child = members[pointer.tokens[depth]] else {
                throw .failed("path \"\(pointer.prefix(depth + 1))\" does not exist")
            }
            return child
        case .array(let items):
            return items[try pointer.arrayIndex(at: depth, count: items.count, allowingEnd: allowingEnd)]
        default:
            throw JSON.notContainer(self, pointer: pointer, depth: depth)
        }
    }

    /// Walks down to the container holding the pointer's last token and lets
    /// `body` rewrite it in place, then writes the changed children back up.
    private mutating func modifyParent(
        of pointer: JSONPointer, depth: Int, _ body: (inout JSON) throws(PatchError) -> Void
    ) throws(PatchError) {
        if depth == pointer.tokens.count - 1 {
            try body(&self)
            return
        }
        var child = try member(of: pointer, at: depth, allowingEnd: false)
        try child.modifyParent(of: pointer, depth: depth + 1, body)
        switch self {
        case .object(var members):
            self = .null  // let `members` be uniquely referenced while it changes
            members[pointer.tokens[depth]] = child
            self = .object(members)
        case .array(var items):
            self = .null
            items[try pointer.arrayIndex(at: depth, count: items.count, allowingEnd: false)] = child
            self = .array(items)
        default:
            preconditionFailure("member(of:at:) only succeeds on containers")
        }
    }

    private static func notContainer(_ value: JSON, pointer: JSONPointer, depth: Int) -> PatchError {
        .failed("path \"\(pointer.prefix(depth + 1))\" does not exist: \(pointer.name(ofPrefix: depth)) is \(value.typeName.withArticle)")
    }
}

fileprivate extension String {
    /// "a string", "an object", "an integer": for messages about JSON types.
    var withArticle: String {
        guard let first = first else { return self }
        return ("aeiou".contains(first) ? "an " : "a ") + self
    }
}
