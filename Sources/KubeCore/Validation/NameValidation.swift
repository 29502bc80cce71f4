/// Kubernetes' name, label and annotation rules, with apimachinery's messages.
public enum NameValidation {
    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a) }

    static func isLabel(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, let last = b.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func isSubdomain(_ s: String) -> Bool {
        !s.isEmpty && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel(String($0)) }
    }

    /// Problems of a DNS-1123 subdomain (most object names), empty when valid.
    public static func subdomainProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.utf8.count > 253 { problems.append("must be no more than 253 characters") }
        if !isSubdomain(s) { problems.append(subdomainMessage) }
        return problems
    }

    /// Problems of a DNS-1123 label (namespace and service names).
    public static func labelProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isLabel(s) { problems.append(labelMessage) }
        return problems
    }

    /// Problems of a qualified name (`prefix/name`): label and annotation keys.
    public static func qualifiedNameProblems(_ s: String) -> [String] {
        var problems: [String] = []
        let parts = s.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        var name = s
        if parts.count == 2 {
            if parts[0].isEmpty { problems.append("prefix part must be non-empty") }
            else { problems += subdomainProblems(parts[0]).map { "prefix part " + $0 } }
            name = parts[1]
        } else if parts.count > 2 {
            return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty { problems.append("name part must be non-empty") }
        else {
            if name.utf8.count > 63 { problems.append("name part must be no more than 63 characters") }
            let b = Array(name.utf8)
            let ok = isAlnum(b.first!) && isAlnum(b.last!) && b.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
            if !ok { problems.append(qualifiedNameMessage) }
        }
        return problems
    }

    /// Problems of a label value.
    public static func labelValueProblems(_ s: String) -> [String] {
        if s.isEmpty { return [] }
        var problems: [String] = []
        if s.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        let b = Array(s.utf8)
        let ok = isAlnum(b.first!) && isAlnum(b.last!) && b.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
        if !ok { problems.append(labelValueMessage) }
        return problems
    }

    static func causes(_ value: String, field: String, _ problems: [String]) -> [FieldCause] {
        problems.map { FieldCause(reason: "FieldValueInvalid", message: "Invalid value: \(JSON.string(value).serializedString()): \($0)", field: field) }
    }

    public static func validateSubdomain(_ name: String, field: String) -> [FieldCause] {
        name.isEmpty ? [.required(field, "name or generateName is required")] : causes(name, field: field, subdomainProblems(name))
    }

    public static func validateLabel(_ name: String, field: String) -> [FieldCause] {
        name.isEmpty ? [.required(field)] : causes(name, field: field, labelProblems(name))
    }

    /// Names that only need to be usable as a path segment.
    public static func validatePathSegment(_ name: String, field: String) -> [FieldCause] {
        if name.isEmpty { return [.required(field)] }
        if name == "." || name == ".." { return causes(name, field: field, ["may not be '\(name)'"]) }
        for bad in ["/", "%"] where name.contains(bad) { return causes(name, field: field, ["may not contain '\(bad)'"]) }
        return []
    }

    /// Labels (keys and values) and annotations (keys, total size) of `metadata`.
    public static func validateMetadataMaps(_ metadata: JSON) -> [FieldCause] {
        var causes: [FieldCause] = []
        for (key, value) in (metadata["labels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            causes += Self.causes(key, field: "metadata.labels", qualifiedNameProblems(key))
            guard let text = value.stringValue else {
                causes.append(.typeInvalid("metadata.labels", value, "must be a string"))
                continue
            }
            causes += Self.causes(text, field: "metadata.labels", labelValueProblems(text))
        }
        var total = 0
        for (key, value) in (metadata["annotations"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            causes += Self.causes(key.lowercased(), field: "metadata.annotations", qualifiedNameProblems(key.lowercased()))
            guard let text = value.stringValue else {
                causes.append(.typeInvalid("metadata.annotations", value, "must be a string"))
                continue
            }
            total += key.utf8.count + text.utf8.count
        }
        if total > 256 * 1024 {
            causes.append(FieldCause(reason: "FieldValueTooLong", message: "Too long: must have at most 262144 bytes", field: "metadata.annotations"))
        }
        return causes
    }
}

