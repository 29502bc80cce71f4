import CJSONScan
/// A syntax or shape error in Kubernetes JSON, with the byte offset where it
/// was found (counted from the start of the document, list or watch stream
/// that was handed to the decoder).
public struct ObjectDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// The position of an object member's key: the bytes between the quotes.
public struct JSONKey: Sendable {
    /// First byte after the opening quote.
    public var start: Int
    /// The closing quote.
    public var end: Int
    /// Whether the key contains a backslash escape (then compare unescaped).
    public var hasEscapes: Bool
}

/// One member of an object as the scanner meets it.
public struct JSONMember: Sendable {
    public var key: JSONKey
    /// The opening quote of the key.
    public var keyStart: Int
    /// The first byte of the value.
    public var valueStart: Int
    /// The comma before this member, if it is not the first member.
    public var precedingComma: Int?
}

/// A byte-level JSON scanner: it skips values, walks the members of an object
/// and the elements of an array, and decodes strings and numbers only when
/// asked. Nothing is built into a tree.
///
/// Every value the scanner passes over is validated (structure, string
/// escapes, number grammar, literals); a malformed or truncated document is an
/// `ObjectDecodingError` with the byte offset. Skipping is iterative, never
/// recursive; nesting deeper than `maxDepth` containers is an error. Strings
/// that are skipped are checked for escapes and control characters but not for
/// UTF-8 validity; strings that are decoded are.
///
/// The scanner holds an unsafe pointer: use it only inside the closure that
/// lent the buffer (see `withScanner(over:maxDepth:_:)`).
public struct JSONScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    /// Added to every offset in an error (the position of `bytes[0]` in the stream).
    public let baseOffset: Int
    public let maxDepth: Int

    /// The same bound as `JSON.parse`, so `KubeObject.json` never fails on depth
    /// where the scanner succeeded.
    public static let defaultMaxDepth = 1000

    public init(_ bytes: UnsafeBufferPointer<UInt8>, baseOffset: Int = 0, maxDepth: Int = JSONScanner.defaultMaxDepth) {
        self.bytes = bytes
        self.baseOffset = baseOffset
        self.maxDepth = maxDepth
    }

    /// Lends a scanner over the bytes of an array.
    public static func withScanner<R>(
        over bytes: [UInt8], maxDepth: Int = JSONScanner.defaultMaxDepth,
        _ body: (JSONScanner) throws(ObjectDecodingError) -> R
    ) throws(ObjectDecodingError) -> R {
        try bytes.withUnsafeBufferPointer { (buffer) throws(ObjectDecodingError) -> R in
            try body(JSONScanner(buffer, maxDepth: maxDepth))
        }
    }

    // MARK: Errors

    @usableFromInline
    func error(_ reason: String, at i: Int) -> ObjectDecodingError {
        ObjectDecodingError(offset: baseOffset + i, reason: reason)
    }

    func unexpected(_ i: Int, expected: String) -> ObjectDecodingError {
        if i >= bytes.count { return error("unexpected end of input, expected \(expected)", at: bytes.count) }
        return error("invalid character \(Self.describe(bytes[i])), expected \(expected)", at: i)
    }

    static func describe(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "0x" + String(c, radix: 16)
    }

    // MARK: Primitives

    /// The index of the first byte at or after `i` that is not white space.
    @inline(__always)
    public func skipWhitespace(_ i: Int) -> Int {
        var i = i
        while i < bytes.count {
            let c = bytes[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { break }
            i += 1
        }
        return i
    }

    /// Whether the value at `i` (after white space) is the literal `null`.
    public func isNull(at i: Int) -> Bool {
        let i = skipWhitespace(i)
        return i + 4 <= bytes.count && bytes[i] == 0x6E && bytes[i + 1] == 0x75 && bytes[i + 2] == 0x6C && bytes[i + 3] == 0x6C
    }

    /// Skips the string whose opening quote is at `i`.
    @inline(__always)
    public func skipString(at i: Int) throws(ObjectDecodingError) -> (end: Int, hasEscapes: Bool) {
        var j = i + 1
        var escapes = false
        let n = bytes.count
        while j < n {
            // Sixteen (vector compares), then eight bytes at a time while none of them is a quote, a backslash or a control character.
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                j &+= plugboard_json_plain_run(base + j, n &- j)
                while j &+ 8 <= n && !Self.hasSpecialStringByte(raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)) { j &+= 8 }
                guard j < n else { break }
            }
            let c = bytes[j]
            if c == 0x22 { return (j + 1, escapes) }
            if c == 0x5C {
                escapes = true
                guard j + 1 < n else { throw error("unexpected end of input in string escape", at: n) }
                switch bytes[j + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                    j += 2
                case 0x75:
                    guard j + 6 <= n else { throw error("unexpected end of input in \\u escape", at: n) }
                    for k in j + 2..<j + 6 where Self.hexValue(bytes[k]) == nil {
                        throw error("invalid hex digit \(Self.describe(bytes[k])) in \\u escape", at: k)
                    }
                    j += 6
                default:
                    throw error("invalid escape \\\(Self.describe(bytes[j + 1]))", at: j)
                }
            } else if c < 0x20 {
                throw error("control character \(Self.describe(c)) in string", at: j)
            } else {
                j += 1
            }
        }
        throw error("unexpected end of input in string", at: n)
    }

    /// Whether any of the eight bytes in `word` ends or interrupts a plain run of string content: a quote,
    /// a backslash, or a control character (below 0x20). Exact, with no false positives or negatives:
    /// `(x - 0x01…01 * k) & ~x & 0x80…80` is non-zero exactly when some byte of `x` is below `k` (k ≤ 0x80),
    /// and a byte equal to `c` is a zero byte of `word ^ (0x01…01 * c)`.
    @inline(__always)
    static func hasSpecialStringByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasByteBelow(_ x: UInt64, _ k: UInt64) -> Bool { (x &- ones &* k) & ~x & highs != 0 }
        return hasByteBelow(word, 0x20) || hasByteBelow(word ^ (ones &* 0x22), 1) || hasByteBelow(word ^ (ones &* 0x5C), 1)
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Skips the number that starts at `i`, checking JSON's number grammar.
    public func skipNumber(at i: Int) throws(ObjectDecodingError) -> Int {
        let n = bytes.count
        var j = i
        if j < n && bytes[j] == 0x2D { j += 1 }
        guard j < n else { throw unexpected(j, expected: "digit") }
        if bytes[j] == 0x30 {
            j += 1
        } else if Self.isDigit(bytes[j]) {
            j += 1
            while j < n && Self.isDigit(bytes[j]) { j += 1 }
        } else {
            throw unexpected(j, expected: "digit")
        }
        if j < n && bytes[j] == 0x2E {
            j += 1
            guard j < n && Self.isDigit(bytes[j]) else { throw unexpected(j, expected: "digit after decimal point") }
            while j < n && Self.isDigit(bytes[j]) { j += 1 }
        }
        if j < n && (bytes[j] == 0x65 || bytes[j] == 0x45) {
            j += 1
            if j < n && (bytes[j] == 0x2B || bytes[j] == 0x2D) { j += 1 }
            guard j < n && Self.isDigit(bytes[j]) else { throw unexpected(j, expected: "digit in exponent") }
            while j < n && Self.isDigit(bytes[j]) { j += 1 }
        }
        return j
    }

    private func skipLiteral(at i: Int) throws(ObjectDecodingError) -> Int {
        let word: StaticString
        switch bytes[i] {
        case 0x74: word = "true"
        case 0x66: word = "false"
        default: word = "null"
        }
        let count = word.utf8CodeUnitCount
        for k in 0..<count {
            guard i + k < bytes.count else { throw error("unexpected end of input in literal", at: bytes.count) }
            guard bytes[i + k] == word.utf8Start[k] else {
                throw error("invalid character \(Self.describe(bytes[i + k])) in literal \(word)", at: i + k)
            }
        }
        return i + count
    }

    /// Expects a key string at `i`, then `:`; returns the first byte of the value.
    @inline(__always)
    private func skipKeyAndColon(at i: Int) throws(ObjectDecodingError) -> Int {
        guard i < bytes.count, bytes[i] == 0x22 else { throw unexpected(i, expected: "string key") }
        let j = skipWhitespace(try skipString(at: i).end)
        guard j < bytes.count, bytes[j] == 0x3A else { throw unexpected(j, expected: "':' after object key") }
        return skipWhitespace(j + 1)
    }

    // MARK: Values

    /// Skips one value starting at `start` (leading white space allowed) and
    /// returns the index just after it. `depth` is the number of containers
    /// that enclose the value.
    public func skipValue(at start: Int, depth: Int) throws(ObjectDecodingError) -> Int {
        let n = bytes.count
        var i = skipWhitespace(start)
        // The open containers: bit k of `low` is 1 for an object at level k;
        // levels past 64 go to `deep`, which is only allocated when needed.
        var level = 0
        var low: UInt64 = 0
        var deep: [Bool] = []
        while true {
            guard i < n else { throw unexpected(i, expected: "value") }
            switch bytes[i] {
            case 0x22:
                i = try skipString(at: i).end
            case 0x7B, 0x5B:
                let isObject = bytes[i] == 0x7B
                guard depth + level + 1 <= maxDepth else {
                    throw error("nesting deeper than \(maxDepth) levels", at: i)
                }
                let j = skipWhitespace(i + 1)
                guard j < n else { throw unexpected(j, expected: isObject ? "'\"' or '}'" : "value or ']'") }
                if bytes[j] == (isObject ? 0x7D : 0x5D) {
                    i = j + 1  // empty container: a complete value
                } else {
                    if level < 64 {
                        if isObject { low |= 1 << UInt64(level) } else { low &= ~(1 << UInt64(level)) }
                    } else {
                        deep.append(isObject)
                    }
                    level += 1
                    i = isObject ? try skipKeyAndColon(at: j) : j
                    continue
                }
            case 0x2D, 0x30...0x39:
                i = try skipNumber(at: i)
            case 0x74, 0x66, 0x6E:
                i = try skipLiteral(at: i)
            default:
                throw unexpected(i, expected: "value")
            }
            // A value is complete: close containers until one continues.
            while level > 0 {
                i = skipWhitespace(i)
                let isObject = level <= 64 ? (low >> UInt64(level - 1)) & 1 == 1 : deep[deep.count - 1]
                guard i < n else { throw unexpected(i, expected: isObject ? "',' or '}'" : "',' or ']'") }
                let c = bytes[i]
                if c == 0x2C {
                    let j = skipWhitespace(i + 1)
                    i = isObject ? try skipKeyAndColon(at: j) : j
                    break
                }
                guard c == (isObject ? 0x7D : 0x5D) else {
                    throw unexpected(i, expected: isObject ? "',' or '}'" : "',' or ']'")
                }
                i += 1
                if level > 64 { deep.removeLast() }
                level -= 1
            }
            if level == 0 { return i }
        }
    }

    /// Walks the members of the object at `start` (leading white space
    /// allowed). `body` gets each member; it returns the index after the value
    /// if it consumed the value, or nil to have the scanner skip it. Returns the
    /// index after the closing brace. `depth` counts the containers around the
    /// object.
    public func forEachMember(
        ofObjectAt start: Int, depth: Int,
        _ body: (JSONMember) throws(ObjectDecodingError) -> Int?
    ) throws(ObjectDecodingError) -> Int {
        let n = bytes.count
        var i = skipWhitespace(start)
        guard i < n, bytes[i] == 0x7B else { throw unexpected(i, expected: "object") }
        guard depth + 1 <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels", at: i) }
        i = skipWhitespace(i + 1)
        guard i < n else { throw unexpected(i, expected: "'\"' or '}'") }
        if bytes[i] == 0x7D { return i + 1 }
        var comma: Int? = nil
        while true {
            guard i < n, bytes[i] == 0x22 else { throw unexpected(i, expected: "string key") }
            let (keyEnd, escapes) = try skipString(at: i)
            var j = skipWhitespace(keyEnd)
            guard j < n, bytes[j] == 0x3A else { throw unexpected(j, expected: "':' after object key") }
            j = skipWhitespace(j + 1)
            let member = JSONMember(
                key: JSONKey(start: i + 1, end: keyEnd - 1, hasEscapes: escapes),
                keyStart: i, valueStart: j, precedingComma: comma)
            let valueEnd: Int
            if let end = try body(member) { valueEnd = end } else { valueEnd = try skipValue(at: j, depth: depth + 1) }
            i = skipWhitespace(valueEnd)
            guard i < n else { throw unexpected(i, expected: "',' or '}'") }
            if bytes[i] == 0x2C {
                comma = i
                i = skipWhitespace(i + 1)
                continue
            }
            guard bytes[i] == 0x7D else { throw unexpected(i, expected: "',' or '}'") }
            return i + 1
        }
    }

    /// Walks the elements of the array at `start`; `body` gets the first byte
    /// of each element and returns the index after it, or nil to skip it.
    public func forEachElement(
        ofArrayAt start: Int, depth: Int,
        _ body: (Int) throws(ObjectDecodingError) -> Int?
    ) throws(ObjectDecodingError) -> Int {
        let n = bytes.count
        var i = skipWhitespace(start)
        guard i < n, bytes[i] == 0x5B else { throw unexpected(i, expected: "array") }
        guard depth + 1 <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels", at: i) }
        i = skipWhitespace(i + 1)
        guard i < n else { throw unexpected(i, expected: "value or ']'") }
        if bytes[i] == 0x5D { return i + 1 }
        while true {
            let valueEnd: Int
            if let end = try body(i) { valueEnd = end } else { valueEnd = try skipValue(at: i, depth: depth + 1) }
            i = skipWhitespace(valueEnd)
            guard i < n else { throw unexpected(i, expected: "',' or ']'") }
            if bytes[i] == 0x2C {
                i = skipWhitespace(i + 1)
                continue
            }
            guard bytes[i] == 0x5D else { throw unexpected(i, expected: "',' or ']'") }
            return i + 1
        }
    }

    /// Checks that only white space follows `i`.
    public func expectEnd(after i: Int) throws(ObjectDecodingError) {
        let j = skipWhitespace(i)
        if j < bytes.count { throw error("invalid character \(Self.describe(bytes[j])) after top-level value", at: j) }
    }

    // MARK: Keys and scalars

    /// Whether `key` spells `literal` (after unescaping, if it has escapes).
    @inline(__always)
    public func key(_ key: JSONKey, is literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        if !key.hasEscapes {
            guard key.end - key.start == count else { return false }
            let p = literal.utf8Start
            for k in 0..<count where bytes[key.start + k] != p[k] { return false }
            return true
        }
        guard let bytes = try? unescapedBytes(key.start, key.end) else { return false }
        return bytes.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: count))
    }

    /// The string value at `i` (after white space); returns it with the index after it.
    public func string(at i: Int) throws(ObjectDecodingError) -> (String, end: Int) {
        let i = skipWhitespace(i)
        guard i < bytes.count, bytes[i] == 0x22 else { throw unexpected(i, expected: "string") }
        let (end, escapes) = try skipString(at: i)
        return (try string(JSONKey(start: i + 1, end: end - 1, hasEscapes: escapes)), end)
    }

    /// The string between the quotes at `key.start - 1` and `key.end` (a key, or any string already
    /// skipped), unescaped and checked to be UTF-8.
    public func string(_ key: JSONKey) throws(ObjectDecodingError) -> String {
        let s: String?
        if key.hasEscapes {
            s = String(validating: try unescapedBytes(key.start, key.end), as: UTF8.self)
        } else {
            let raw = UnsafeBufferPointer(rebasing: bytes[key.start..<key.end])
            var ascii = true
            for c in raw where c >= 0x80 { ascii = false; break }
            // ASCII (nearly every metadata string) takes the fast, non-generic path.
            s = ascii ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
        }
        guard let s else { throw error("invalid UTF-8 in string", at: key.start - 1) }
        return s
    }

    /// A string, or nil for `null`.
    public func optionalString(at i: Int) throws(ObjectDecodingError) -> (String?, end: Int) {
        if isNull(at: i) { return (nil, skipWhitespace(i) + 4) }
        let (s, end) = try string(at: i)
        return (s, end)
    }

    /// An integer that fits in 64 bits (no fraction or exponent), or nil for `null`.
    public func optionalInt64(at i: Int) throws(ObjectDecodingError) -> (Int64?, end: Int) {
        let i = skipWhitespace(i)
        if isNull(at: i) { return (nil, i + 4) }
        guard i < bytes.count, bytes[i] == 0x2D || Self.isDigit(bytes[i]) else { throw unexpected(i, expected: "integer") }
        let end = try skipNumber(at: i)
        var value: Int64 = 0
        let negative = bytes[i] == 0x2D
        for k in (negative ? i + 1 : i)..<end {
            guard Self.isDigit(bytes[k]) else { throw error("expected an integer", at: i) }
            let digit = Int64(bytes[k] - 0x30)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            guard !o1 && !o2 else { throw error("integer does not fit in 64 bits", at: i) }
            value = a
        }
        return (value, end)
    }

    /// `true` or `false`, or nil for `null`.
    public func optionalBool(at i: Int) throws(ObjectDecodingError) -> (Bool?, end: Int) {
        let i = skipWhitespace(i)
        guard i < bytes.count else { throw unexpected(i, expected: "boolean") }
        switch bytes[i] {
        case 0x74: return (true, try skipLiteral(at: i))
        case 0x66: return (false, try skipLiteral(at: i))
        case 0x6E: return (nil, try skipLiteral(at: i))
        default: throw unexpected(i, expected: "boolean")
        }
    }

    /// The bytes of a string's contents (between the quotes) with escapes
    /// resolved; lone surrogates become U+FFFD, as in Go.
    func unescapedBytes(_ start: Int, _ end: Int) throws(ObjectDecodingError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var j = start
        while j < end {
            let c = bytes[j]
            guard c == 0x5C else {
                out.append(c)
                j += 1
                continue
            }
            let e = bytes[j + 1]
            switch e {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = hex4(j + 2)
                j += 6
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    if j + 6 <= end && bytes[j] == 0x5C && bytes[j + 1] == 0x75 {
                        let low = hex4(j + 2)
                        if low >= 0xDC00 && low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            j += 6
                        } else {
                            scalar = 0xFFFD
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: UTF8.encode(u)!)
                continue
            default: out.append(e)  // " \ /
            }
            j += 2
        }
        return out
    }

    private func hex4(_ i: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in i..<i + 4 { v = v << 4 | (Self.hexValue(bytes[k]) ?? 0) }
        return v
    }
}
