import KubeCore

/// The formats of names in the config, each as a check that returns what is
/// wrong (nil when the text is fine). Messages are short: they follow a path
/// and end with the offending value.
enum NameRules {
    static func isASCIIAlphanumeric(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    static func dnsLabel(_ text: String) -> String? {
        NameValidation.dns1123LabelProblems(text).isEmpty
            ? nil
            : "must be a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
    }

    static func dnsSubdomain(_ text: String) -> String? {
        NameValidation.dns1123SubdomainProblems(text).isEmpty
            ? nil
            : "must be a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
    }

    /// `v1` (the core group) or `group/version`, the group a DNS subdomain and
    /// the version a DNS-1035 label (`v1`, `v1beta1`).
    static func apiVersion(_ text: String) -> String? {
        let expected = #"must be "v1" for the core group or "GROUP/VERSION" such as "apps/v1""#
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1:
            return text == "v1" ? nil : expected
        case 2:
            let groupOK = NameValidation.dns1123SubdomainProblems(parts[0]).isEmpty
            let versionOK = NameValidation.dns1035LabelProblems(parts[1]).isEmpty
            return groupOK && versionOK ? nil : expected
        default:
            return expected
        }
    }

    /// An UpperCamel identifier such as `Deployment`.
    static func kind(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        let ok = bytes.count <= 63
            && bytes.first.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } == true
            && bytes.allSatisfy(isASCIIAlphanumeric)
        return ok ? nil : "must be a kind: an UpperCamel name of letters and digits such as \"Deployment\""
    }

    /// A lowercase plural such as `deployments` (a DNS-1035 label, as CRD plurals are).
    static func resource(_ text: String) -> String? {
        NameValidation.dns1035LabelProblems(text).isEmpty
            ? nil
            : "must be a resource: a lowercase plural such as \"deployments\" (letters, digits and '-', starting with a letter)"
    }

    /// A POSIX-style environment variable name.
    static func environmentVariable(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        let isStart: (UInt8) -> Bool = { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") || $0 == UInt8(ascii: "_") }
        let ok = bytes.first.map(isStart) == true
            && bytes.allSatisfy { isStart($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
        return ok ? nil : "must be an environment variable name: letters, digits and '_', not starting with a digit"
    }

    /// An HTTP header name (an RFC 9110 token).
    static func headerName(_ text: String) -> String? {
        let extra = Set("!#$%&'*+-.^_`|~".utf8)
        let ok = !text.isEmpty && text.utf8.allSatisfy { isASCIIAlphanumeric($0) || extra.contains($0) }
        return ok ? nil : "must be an HTTP header name: letters, digits and !#$%&'*+-.^_`|~"
    }

    /// An absolute URL path: starts with `/`, no spaces, controls, `?` or `#`.
    static func httpPath(_ text: String) -> String? {
        let ok = text.hasPrefix("/") && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7f && $0 != "?" && $0 != "#" }
        return ok ? nil : "must be an absolute URL path such as \"/reconcile\": starting with '/', without spaces, '?' or '#'"
    }

    /// A Kubernetes field manager: 1 to 128 printable characters (counted as Unicode scalars, as JSON Schema counts).
    static func fieldManager(_ text: String) -> String? {
        let ok = !text.isEmpty && text.unicodeScalars.count <= 128 && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
        return ok ? nil : "must be 1 to 128 printable characters"
    }

    /// Whether a URL host names this machine: `localhost`, an address in
    /// 127.0.0.0/8, or `::1` (with or without brackets).
    static func isLoopbackHost(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            guard let value = Int(octet), (0...255).contains(value), octet.allSatisfy(\.isASCII) else { return false }
            return octet == "0" || !octet.hasPrefix("0")
        }
    }
}

/// Close matches for a misspelt field name.
enum Suggestion {
    /// The allowed name nearest to `name` when at most two edits away (ignoring
    /// case); ties go to the earlier name in `allowed`.
    static func closest(to name: String, in allowed: [String]) -> String? {
        var best: (name: String, distance: Int)?
        for candidate in allowed {
            let distance = editDistance(name.lowercased(), candidate.lowercased())
            if distance <= 2, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
