import Foundation

/// String formats in CRD schemas. The API server drops every `format` it does
/// not support before validating (so `int32`, `int64`, `float` and `double`
/// restrict nothing in a custom resource) and checks the rest against
/// go-openapi's definitions.
enum SchemaFormats {
    /// Supported formats, spelled as go-openapi normalizes them (dashes removed).
    static let supported: Set<String> = [
        "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac",
        "uuid", "uuid3", "uuid4", "uuid5", "isbn", "isbn10", "isbn13", "creditcard",
        "ssn", "hexcolor", "rgbcolor", "byte", "password", "date", "duration", "datetime",
        "k8sshortname", "k8slongname",
    ]

    /// The format the validator sees: nil when the API server strips it.
    static func effective(_ format: String?) -> String? {
        guard let format, !format.isEmpty else { return nil }
        return supported.contains(normalized(format)) ? format : nil
    }

    static func normalized(_ format: String) -> String { format.replacingOccurrences(of: "-", with: "") }

    /// Whether `value` is of `format`. Formats without a check here
    /// (URIs, e-mail addresses, ISBNs, …) accept every string.
    static func isValid(_ value: String, format: String) -> Bool {
        switch normalized(format) {
        case "datetime": return isDateTime(value)
        case "date": return isDate(value)
        case "uuid": return isUUID(value, version: nil)
        case "uuid3": return isUUID(value, version: "3")
        case "uuid4": return isUUID(value, version: "4")
        case "uuid5": return isUUID(value, version: "5")
        case "byte": return Data(base64Encoded: value) != nil
        case "ipv4": return isIPv4(value)
        case "bsonobjectid": return value.utf8.count == 24 && value.utf8.allSatisfy(isHex)
        case "hexcolor": return isHexColor(value)
        case "k8sshortname": return NameValidation.dns1123LabelProblems(value).isEmpty
        case "k8slongname": return NameValidation.dns1123SubdomainProblems(value).isEmpty
        default: return true
        }
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) }

    static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.allSatisfy(isDigit) else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// RFC 3339 full-date `2006-01-02`, with a day that exists in that month.
    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let year = number(b[0..<4]), let month = number(b[5..<7]), let day = number(b[8..<10]),
              (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }

    /// go-openapi's date-time: a full-date, `T`, then `hh:mm:ss[.frac](Z|±hh:mm)`.
    static func isDateTime(_ s: String) -> Bool {
        let parts = s.lowercased().split(separator: "t", omittingEmptySubsequences: false)
        guard s.utf8.count >= 4, parts.count >= 2, isDate(String(parts[0])) else { return false }
        let b = Array(parts[1].utf8)
        guard b.count >= 9, b[2] == UInt8(ascii: ":"), b[5] == UInt8(ascii: ":"),
              let hour = number(b[0..<2]), let minute = number(b[3..<5]), let second = number(b[6..<8]),
              hour <= 23, minute <= 59, second <= 59 else { return false }
        var i = 8
        if b[i] != UInt8(ascii: "z") && b[i] != UInt8(ascii: "+") && b[i] != UInt8(ascii: "-") {
            // Any one character, then at least one digit: the fraction.
            i += 1
            let start = i
            while i < b.count && isDigit(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "z") { return i == b.count - 1 }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count - i == 6, b[i + 3] == UInt8(ascii: ":"),
              number(b[(i + 1)..<(i + 3)]) != nil, number(b[(i + 4)..<(i + 6)]) != nil else { return false }
        return true
    }

    /// 8-4-4-4-12 hex digits, dashes optional, any case; versioned UUIDs fix
    /// the version digit and (4 and 5) the variant.
    static func isUUID(_ s: String, version: Character?) -> Bool {
        let groups = [8, 4, 4, 4, 12]
        var chars = Array(s.lowercased())
        var hex: [Character] = []
        for (index, length) in groups.enumerated() {
            if index > 0, chars.first == "-" { chars.removeFirst() }
            guard chars.count >= length, chars.prefix(length).allSatisfy({ $0.isHexDigit }) else { return false }
            hex += chars.prefix(length)
            chars.removeFirst(length)
        }
        guard chars.isEmpty else { return false }
        guard let version else { return true }
        if hex[12] != version { return false }
        return version == "3" || "89ab".contains(hex[16])
    }

    /// Dotted quad of decimal octets without leading zeros.
    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            let bytes = Array(part.utf8)
            guard let value = number(bytes[...]), value <= 255 else { return false }
            return bytes.count == 1 || bytes[0] != UInt8(ascii: "0")
        }
    }

    /// `#fff` or `#ffffff`, the `#` optional.
    static func isHexColor(_ s: String) -> Bool {
        var b = Array(s.utf8)
        if b.first == UInt8(ascii: "#") { b.removeFirst() }
        return (b.count == 3 || b.count == 6) && b.allSatisfy(isHex)
    }
}
