/// Durations written the way Go's `time.ParseDuration` reads them, because
/// that is what Kubernetes users already write: `500ms`, `10s`, `1m30s`,
/// `1.5h`. A sequence of decimal numbers, each with a unit (`ns`, `us`, `µs`,
/// `ms`, `s`, `m`, `h`); a bare `0` is the only number allowed without one.
/// Unlike Go, a sign is never accepted: no setting here may be negative.
enum GoDuration {
    enum ParseError: Error, Equatable {
        case empty
        case negative
        case invalid
        case missingUnit
        case unknownUnit(String)
        case tooLarge

        var message: String {
            switch self {
            case .empty: "must not be empty"
            case .negative: "must not be negative"
            case .invalid: #"must be a duration such as "500ms", "10s" or "1m30s""#
            case .missingUnit: #"needs a unit (ns, us, ms, s, m or h), such as "10s""#
            case .unknownUnit(let unit): #"has an unknown unit "\#(unit)"; use ns, us, ms, s, m or h"#
            case .tooLarge: "is too large"
            }
        }
    }

    private static let units: [String: UInt64] = [
        "ns": 1,
        "us": 1_000, "\u{00B5}s": 1_000, "\u{03BC}s": 1_000,
        "ms": 1_000_000,
        "s": 1_000_000_000,
        "m": 60_000_000_000,
        "h": 3_600_000_000_000,
    ]

    /// The largest duration Go can hold, and so the largest accepted (about 292 years).
    private static let maxNanoseconds = UInt64(Int64.max)

    static func parse(_ text: String) throws(ParseError) -> Duration {
        var rest = Substring(text)
        if rest.isEmpty { throw .empty }
        if rest.first == "-" || rest.first == "+" {
            throw rest.first == "-" ? .negative : .invalid
        }
        if rest == "0" { return .zero }

        var total: UInt64 = 0
        while !rest.isEmpty {
            guard let first = rest.first, first.isASCII, first.isNumber || first == "." else { throw .invalid }
            // The whole part.
            let wholeDigits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(wholeDigits.count)
            var whole: UInt64 = 0
            for digit in wholeDigits.utf8 {
                let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
                if o1 || o2 { throw .tooLarge }
                whole = sum
            }
            // The fraction: digits past what a UInt64 can hold only add precision we drop.
            var fraction: UInt64 = 0
            var scale: Double = 1
            var fractionDigits = 0
            if rest.first == "." {
                rest = rest.dropFirst()
                let digits = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(digits.count)
                fractionDigits = digits.count
                var overflowed = false
                for digit in digits.utf8 where !overflowed {
                    let (times10, o1) = fraction.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
                    if o1 || o2 { overflowed = true } else { fraction = sum; scale *= 10 }
                }
            }
            if wholeDigits.isEmpty && fractionDigits == 0 { throw .invalid }
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unitText.count)
            if unitText.isEmpty { throw .missingUnit }
            guard let unit = units[String(unitText)] else { throw .unknownUnit(String(unitText)) }

            let (scaled, o1) = whole.multipliedReportingOverflow(by: unit)
            if o1 { throw .tooLarge }
            var value = scaled
            if fraction > 0 {
                let (sum, o2) = value.addingReportingOverflow(UInt64(Double(fraction) * (Double(unit) / scale)))
                if o2 { throw .tooLarge }
                value = sum
            }
            let (sum, o3) = total.addingReportingOverflow(value)
            if o3 || sum > maxNanoseconds { throw .tooLarge }
            total = sum
        }
        return .nanoseconds(Int64(total))
    }

    /// Go's `Duration.String` form: `0s`, `1.5ms`, `10s`, `1m30s`, `2h0m0s`.
    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let n = nanoseconds.magnitude
        if n < 1_000 { return "\(sign)\(n)ns" }
        if n < 1_000_000 { return sign + decimal(n, unit: 1_000) + "\u{00B5}s" }
        if n < 1_000_000_000 { return sign + decimal(n, unit: 1_000_000) + "ms" }
        let hours = n / 3_600_000_000_000
        let minutes = n / 60_000_000_000 % 60
        let secondsText = decimal(n % 60_000_000_000, unit: 1_000_000_000) + "s"
        if hours > 0 { return "\(sign)\(hours)h\(minutes)m" + secondsText }
        if minutes > 0 { return "\(sign)\(minutes)m" + secondsText }
        return sign + secondsText
    }

    /// `value / unit` in decimal without trailing zeros.
    private static func decimal(_ value: UInt64, unit: UInt64) -> String {
        let whole = value / unit
        let fraction = value % unit
        if fraction == 0 { return "\(whole)" }
        var digits = String(fraction)
        let width = String(unit).count - 1
        digits = String(repeating: "0", count: width - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
