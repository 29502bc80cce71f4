/// RFC 6902 JSON Patch with RFC 6901 pointers.
public enum JSONPatch {
    public static func apply(_ patch: JSON, to document: JSON) throws(PatchError) -> JSON {
        guard case .array(let operations) = patch else {
            throw PatchError(.malformed, "a JSON patch must be an array of operations, got \(patch.typeName)")
        }
        var document = document
        for (index, operation) in operations.enumerated() {
            guard case .object = operation else { throw PatchError(.malformed, "op \(index): must be an object, got \(operation.typeName)") }
            guard let op = operation["op"]?.stringValue else { throw PatchError(.malformed, "op \(index): missing \"op\"") }
            guard let pathText = operation["path"]?.stringValue else { throw PatchError(.malformed, "op \(index) (\(op)): missing \"path\"") }
            let path = try pointer(pathText, index: index, op: op)
            func value() throws(PatchError) -> JSON {
                guard let v = operation["value"] else { throw PatchError(.malformed, "op \(index) (\(op)): missing \"value\"") }
                return v
            }
            func from() throws(PatchError) -> [String] {
                guard let f = operation["from"]?.stringValue else { throw PatchError(.malformed, "op \(index) (\(op)): missing \"from\"") }
                return try pointer(f, index: index, op: op)
            }
            let context = "op \(index) (\(op))"
            switch op {
            case "add": document = try add(try value(), at: path, in: document, context: context)
            case "remove": document = try remove(at: path, in: document, context: context).document
            case "replace":
                let removed = try remove(at: path, in: document, context: context)
                document = try add(try value(), at: path, in: removed.document, context: context)
            case "move":
                let source = try from()
                if path.count > source.count && Array(path.prefix(source.count)) == source {
                    throw PatchError(.failed, "\(context): cannot move \"\(pathText)\" into one of its own children")
                }
                let removed = try remove(at: source, in: document, context: context)
                document = try add(removed.value, at: path, in: removed.document, context: context)
            case "copy":
                let copied = try get(try from(), in: document, context: context)
                document = try add(copied, at: path, in: document, context: context)
            case "test":
                let actual = try get(path, in: document, context: context)
                let expected = try value()
                if !equal(actual, expected) {
                    throw PatchError(.failed, "\(context): testing value \(pathText) failed: expected \(expected.serializedString()), found \(actual.serializedString())")
                }
            default:
                throw PatchError(.malformed, "op \(index): unknown operation \"\(op)\"")
            }
        }
        return document
    }

    static func pointer(_ text: String, index: Int, op: String) throws(PatchError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw PatchError(.malformed, "op \(index) (\(op)): path \"\(text)\" must start with '/'") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacingAll("~1", "/").replacingAll("~0", "~")
        }
    }

    static func render(_ path: [String]) -> String {
        path.isEmpty ? "" : "/" + path.map { $0.replacingAll("~", "~0").replacingAll("/", "~1") }.joined(separator: "/")
    }

    /// Numbers compare by value, so `1` and `1.0` are equal.
    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int): return a.doubleValue == b.doubleValue
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)): return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
        default: return a == b
        }
    }

    static func arrayIndex(_ token: String, count: Int, allowEnd: Bool, context: String, path: [String]) throws(PatchError) -> Int {
        if allowEnd && token == "-" { return count }
        guard let i = Int(token), i >= 0, String(i) == token else {
            throw PatchError(.failed, "\(context): \"\(token)\" in \"\(render(path))\" is not an array index")
        }
        guard i < count || (allowEnd && i == count) else {
            throw PatchError(.failed, "\(context): index \(i) in \"\(render(path))\" is out of range (array has \(count) elements)")
        }
        return i
    }

    static func get(_ path: [String], in document: JSON, context: String) throws(PatchError) -> JSON {
        var current = document
        for (depth, token) in path.enumerated() {
            switch current {
            case .object(let members):
                guard let next = members[token] else { throw PatchError(.failed, "\(context): path \"\(render(path))\" does not exist") }
                current = next
            case .array(let items):
                current = items[try arrayIndex(token, count: items.count, allowEnd: false, context: context, path: Array(path.prefix(depth + 1)))]
            default:
                throw PatchError(.failed, "\(context): path \"\(render(path))\" does not exist")
            }
        }
        return current
    }

    static func add(_ value: JSON, at path: [String], in document: JSON, context: String) throws(PatchError) -> JSON {
        guard let token = path.first else { return value }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var members):
            if rest.isEmpty {
                members[token] = value
            } else {
                guard let child = members[token] else { throw PatchError(.failed, "\(context): path \"\(render(path))\" does not exist") }
                members[token] = try add(value, at: rest, in: child, context: context)
            }
            return .object(members)
        case .array(var items):
            let i = try arrayIndex(token, count: items.count, allowEnd: rest.isEmpty, context: context, path: path)
            if rest.isEmpty { items.insert(value, at: i) } else { items[i] = try add(value, at: rest, in: items[i], context: context) }
            return .array(items)
        default:
            throw PatchError(.failed, "\(context): cannot add at \"\(render(path))\": parent is a \(document.typeName)")
        }
    }

    static func remove(at path: [String], in document: JSON, context: String) throws(PatchError) -> (document: JSON, value: JSON) {
        guard let token = path.first else { throw PatchError(.failed, "\(context): cannot remove the whole document") }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var members):
            guard let child = members[token] else { throw PatchError(.failed, "\(context): path \"\(render(path))\" does not exist") }
            if rest.isEmpty {
                members[token] = nil
                return (.object(members), child)
            }
            let inner = try remove(at: rest, in: child, context: context)
            members[token] = inner.document
            return (.object(members), inner.value)
        case .array(var items):
            let i = try arrayIndex(token, count: items.count, allowEnd: false, context: context, path: path)
            if rest.isEmpty {
                let removed = items.remove(at: i)
                return (.array(items), removed)
            }
            let inner = try remove(at: rest, in: items[i], context: context)
            items[i] = inner.document
            return (.array(items), inner.value)
        default:
            throw PatchError(.failed, "\(context): path \"\(render(path))\" does not exist")
        }
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
