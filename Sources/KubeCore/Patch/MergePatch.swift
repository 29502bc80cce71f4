/// RFC 7386 JSON Merge Patch.
public enum MergePatch {
    /// `null` removes a key, objects merge recursively, anything else replaces.
    public static func apply(_ patch: JSON, to document: JSON) -> JSON {
        guard case .object(let patchMembers) = patch else { return patch }
        var result: [String: JSON] = document.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// A merge patch that turns `original` into `modified`.
    public static func create(from original: JSON, to modified: JSON) -> JSON {
        guard case .object(let a) = original, case .object(let b) = modified else { return modified }
        var patch: [String: JSON] = [:]
        for (key, value) in b {
            if let old = a[key] {
                if old != value {
                    if case .object = old, case .object = value { patch[key] = create(from: old, to: value) } else { patch[key] = value }
                }
            } else {
                patch[key] = value
            }
        }
        for key in a.keys where b[key] == nil { patch[key] = .null }
        return .object(patch)
    }
}
