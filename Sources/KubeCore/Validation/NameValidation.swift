/// Kubernetes' name rules (DNS-1123 label and subdomain, DNS-1035 label, path
/// segment, qualified name, label value) with apimachinery's messages, regex
/// text included, because kubectl users and client libraries see them verbatim.
///
/// The `…Problems` functions return the problem strings apimachinery's
/// `validation.Is…` functions return (empty when valid); the `validate…`
/// functions turn them into causes for one field.
public enum NameValidation {
    /// How a kind's `metadata.name` is checked.
    public enum NameRule: Sendable, Hashable {
        /// DNS-1123 subdomain, at most 253 characters: most kinds.
        case dnsSubdomain
        /// DNS-1123 label, at most 63 characters: namespaces, services.
        case dnsLabel
        /// Anything usable as a URL path segment: RBAC roles, for example.
        case pathSegment
    }

    static let dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dns1123SubdomainFormat = dns1123LabelFormat + "(\\." + dns1123LabelFormat + ")*"
    static let dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?"
    static let labelKeyFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let labelValueFormat = "(" + labelKeyFormat + ")?"

    /// apimachinery's `RegexError`: the rule, examples, and the regex it used.
    static func regexError(_ message: String, _ format: String, examples: [String]) -> String {
        if examples.isEmpty { return message + " (regex used for validation is '" + format + "')" }
        var text = message + " (e.g. "
        for (i, example) in examples.enumerated() {
            if i > 0 { text += " or " }
            text += "'" + example + "', "
        }
        return text + "regex used for validation is '" + format + "')"
    }

    static let dns1123LabelMessage = regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        dns1123LabelFormat, examples: ["my-name", "123-abc"])
    static let dns1123SubdomainMessage = regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        dns1123SubdomainFormat, examples: ["example.com"])
    static let dns1035LabelMessage = regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        dns1035LabelFormat, examples: ["my-name", "abc-123"])
    static let labelKeyRule = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let labelKeyMessage = regexError(labelKeyRule, labelKeyFormat, examples: ["MyName", "my.name", "123-abc"])
    static let labelValueMessage = regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        labelValueFormat, examples: ["MyValue", "my_value", "12345"])

    // MARK: Character classes (the regexes above, written out)

    static func isLowerAlphanumeric(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
    static func isAlphanumeric(_ c: UInt8) -> Bool { isLowerAlphanumeric(c) || (c >= 0x41 && c <= 0x5a) }

    /// `first (middle* last)?` over bytes.
    static func matches(_ s: String, first: (UInt8) -> Bool, middle: (UInt8) -> Bool, last: (UInt8) -> Bool) -> Bool {
        let bytes = Array(s.utf8)
        guard let head = bytes.first, let tail = bytes.last, first(head) else { return false }
        if bytes.count == 1 { return true }
        return last(tail) && bytes.dropFirst().dropLast().allSatisfy(middle)
    }

    static func isDNS1123Label(_ s: String) -> Bool {
        matches(s, first: isLowerAlphanumeric, middle: { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }, last: isLowerAlphanumeric)
    }

    static func isDNS1123Subdomain(_ s: String) -> Bool {
        s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNS1123Label(String($0)) }
    }

    static func isLabelKeyName(_ s: String) -> Bool {
        let extra: Set<UInt8> = [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ".")]
        return matches(s, first: isAlphanumeric, middle: { isAlphanumeric($0) || extra.contains($0) }, last: isAlphanumeric)
    }

    // MARK: Problem lists

    /// `validation.IsDNS1123Label`.
    public static func dns1123LabelProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isDNS1123Label(s) {
            // A valid subdomain that is not a valid label can only be wrong because of its dots.
            problems.append(isDNS1123Subdomain(s) ? "must not contain dots" : dns1123LabelMessage)
        }
        return problems
    }

    /// `validation.IsDNS1123Subdomain`. Label-key prefixes use the newer
    /// wording that counts bytes (`lengthUnit: "bytes"`).
    public static func dns1123SubdomainProblems(_ s: String, lengthUnit: String = "characters") -> [String] {
        var problems: [String] = []
        if s.utf8.count > 253 { problems.append("must be no more than 253 \(lengthUnit)") }
        if !isDNS1123Subdomain(s) { problems.append(dns1123SubdomainMessage) }
        return problems
    }

    /// `validation.IsDNS1035Label`.
    public static func dns1035LabelProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        let isLower: (UInt8) -> Bool = { $0 >= 0x61 && $0 <= 0x7a }
        if !matches(s, first: isLower, middle: { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }, last: isLowerAlphanumeric) {
            problems.append(dns1035LabelMessage)
        }
        return problems
    }

    /// `path.IsValidPathSegmentName`: not `.` or `..`, no `/` or `%`.
    public static func pathSegmentProblems(_ s: String) -> [String] {
        if s == "." || s == ".." { return ["may not be '\(s)'"] }
        return ["/", "%"].filter { s.contains($0) }.map { "may not contain '\($0)'" }
    }

    /// `validation.IsQualifiedName`: label and annotation keys, `[prefix/]name`.
    public static func qualifiedNameProblems(_ s: String) -> [String] {
        var problems: [String] = []
        let parts = s.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name: String
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                problems.append("prefix part must be non-empty")
            } else {
                problems += dns1123SubdomainProblems(parts[0], lengthUnit: "bytes").map { "prefix part " + $0 }
            }
        default:
            return ["a valid label key " + labelKeyMessage + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            problems.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            problems.append("name part must be no more than 63 bytes")
        }
        if !isLabelKeyName(name) { problems.append("name part " + labelKeyMessage) }
        return problems
    }

    /// `validation.IsValidLabelValue`: empty, or up to 63 bytes of the label-key alphabet.
    public static func labelValueProblems(_ s: String) -> [String] {
        var problems: [String] = []
        if s.utf8.count > 63 { problems.append("must be no more than 63 bytes") }
        if !s.isEmpty && !isLabelKeyName(s) { problems.append(labelValueMessage) }
        return problems
    }

    /// The problems of a name under `rule`; with `prefix` the name is a
    /// `generateName`, whose trailing dash is allowed (a suffix follows it).
    public static func nameProblems(_ name: String, rule: NameRule, prefix: Bool = false) -> [String] {
        var name = name
        if prefix && rule != .pathSegment && name.utf8.count > 1 && name.hasSuffix("-") {
            // apimachinery's maskTrailingDash: replace the last two bytes by "a".
            name = String(decoding: Array(name.utf8).dropLast(2) + [UInt8(ascii: "a")], as: UTF8.self)
        }
        switch rule {
        case .dnsSubdomain: return dns1123SubdomainProblems(name)
        case .dnsLabel: return dns1123LabelProblems(name)
        case .pathSegment: return prefix ? pathSegmentPrefixProblems(name) : pathSegmentProblems(name)
        }
    }

    /// `path.IsValidPathSegmentPrefix`: generateName of path-segment kinds.
    static func pathSegmentPrefixProblems(_ s: String) -> [String] {
        ["/", "%"].filter { s.contains($0) }.map { "may not contain '\($0)'" }
    }

    // MARK: Causes

    /// One `FieldValueInvalid` cause per problem, as ObjectMeta validation reports them.
    public static func causes(_ value: String, field: String, _ problems: [String]) -> [FieldCause] {
        problems.map { FieldCause.invalid(field, .string(value), $0) }
    }

    /// A `metadata.name` under `rule`; empty is `Required value: name or generateName is required`.
    public static func validateName(_ name: String, rule: NameRule, field: String = "metadata.name") -> [FieldCause] {
        if name.isEmpty { return [.required(field, "name or generateName is required")] }
        return causes(name, field: field, nameProblems(name, rule: rule))
    }

    /// A DNS-1123 subdomain name (most kinds).
    public static func validateSubdomain(_ name: String, field: String) -> [FieldCause] {
        validateName(name, rule: .dnsSubdomain, field: field)
    }

    /// A DNS-1123 label name (namespaces, services).
    public static func validateLabel(_ name: String, field: String) -> [FieldCause] {
        validateName(name, rule: .dnsLabel, field: field)
    }

    /// A name that only needs to be usable as a path segment.
    public static func validatePathSegment(_ name: String, field: String) -> [FieldCause] {
        validateName(name, rule: .pathSegment, field: field)
    }
}
