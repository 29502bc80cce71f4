/// RFC 7386 JSON Merge Patch (`application/merge-patch+json`).
///
/// A merge patch is a partial document: objects merge member by member,
/// `null` deletes a member, and every other value (arrays included) replaces
/// what was there. It cannot be malformed, since any JSON value is a merge
/// patch, so `apply` does not throw.
public enum MergePatch {
    /// Applies `patch` to `document` as RFC 7386 section 2 describes.
    ///
    /// A non-object patch replaces the document whole. An object patch applied
    /// to a non-object starts from an empty object, so nulls in parts of the
    /// patch that have nothing to merge into are dropped rather than stored.
    public static func apply(_ patch: JSON, to document: JSON) -> JSON {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = document.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// A merge patch that turns `original` into `modified`: changed and added
    /// members, nested objects as nested patches, `null` for removed members.
    /// Unchanged members are left out, so `create(from: a, to: a)` is `{}`.
    ///
    /// Round-trips (`apply(create(from: a, to: b), to: a) == b`) hold for
    /// every pair except where `modified` has an object member whose value is
    /// `null`: a merge patch has no way to say "set to null", only "delete",
    /// which is a limit of RFC 7386 itself.
    public static func create(from original: JSON, to modified: JSON) -> JSON {
        guard case .object(let before) = original, case .object(let after) = modified else {
            // Anything but object-to-object is a replacement. When only the
            // original is not an object, the modified object is already a patch
            // that builds itself from nothing.
            return modified
        }
        var patch: [String: JSON] = [:]
        for (key, newValue) in after {
            guard let oldValue = before[key] else {
                patch[key] = newValue
                continue
            }
            // Strict equality on purpose: `1` and `1.0` differ in the stored
            // document, and the patch must reproduce `modified` exactly.
            if oldValue == newValue { continue }
            if case .object = oldValue, case .object = newValue {
                patch[key] = create(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        for key in before.keys where after[key] == nil {
            patch[key] = .null
        }
        return .object(patch)
    }
}
