/// An RFC 6901 JSON Pointer: the address of one value inside a JSON document.
///
/// The pointer is kept as decoded reference tokens, so `~1` (`/`) and `~0`
/// (`~`) are resolved once, when the patch is read, and a key such as
/// `example.com/name` is looked up literally. `description` re-escapes the
/// tokens so error messages show the pointer the client wrote.
struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    var tokens: [String]

    init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses the textual form: empty (the whole document) or `/`-separated
    /// tokens. Bad syntax is a malformed patch, whatever the document holds.
    init(parsing text: String) throws(PatchError) {
        if text.isEmpty {
            self.init(tokens: [])
            return
        }
        guard text.hasPrefix("/") else {
            throw .malformed("\"\(text)\" is not a JSON pointer: it must be empty or start with \"/\"")
        }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard let token = JSONPointer.unescape(raw) else {
                throw .malformed("\"\(text)\" is not a JSON pointer: \"~\" must be followed by \"0\" or \"1\"")
            }
            tokens.append(token)
        }
        self.init(tokens: tokens)
    }

    /// Decodes `~0` and `~1` in one left-to-right pass, so `~01` is `~1`
    /// (RFC 6901 section 4); nil for any other use of `~`.
    static func unescape(_ raw: Substring) -> String? {
        guard raw.contains("~") else { return String(raw) }
        var out = String.UnicodeScalarView()
        var scalars = raw.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "~" else {
                out.append(scalar)
                continue
            }
            switch scalars.next() {
            case "0": out.append("~")
            case "1": out.append("/")
            default: return nil
            }
        }
        return String(out)
    }

    var description: String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    var isRoot: Bool { tokens.isEmpty }

    /// The pointer made of the first `count` tokens.
    func prefix(_ count: Int) -> JSONPointer { JSONPointer(tokens: Array(tokens.prefix(count))) }

    /// True when `other` points strictly inside the value this pointer names.
    func isProperPrefix(of other: JSONPointer) -> Bool {
        other.tokens.count > tokens.count && other.tokens.starts(with: tokens)
    }

    /// How the prefix of `count` tokens is named in messages: the root has no
    /// useful textual form, so it is called "the document".
    func name(ofPrefix count: Int) -> String {
        count == 0 ? "the document" : "\"\(prefix(count))\""
    }

    /// Resolves the token at `depth` as an index into an array of `count`
    /// elements. RFC 6901 allows only canonical decimal numbers (no sign, no
    /// leading zero); `-` names the position after the last element, which
    /// only `add` may use.
    func arrayIndex(at depth: Int, count: Int, allowingEnd: Bool) throws(PatchError) -> Int {
        let token = tokens[depth]
        let array = depth == 0 ? "the top-level array" : "the array at \"\(prefix(depth))\""
        if token == "-" {
            guard allowingEnd else {
                throw .failed("path \"\(self)\" does not exist: \"-\" names the end of \(array), not an element")
            }
            return count
        }
        guard let index = Int(token), index >= 0, String(index) == token else {
            throw .failed("path \"\(self)\" does not exist: \"\(token)\" is not an index into \(array)")
        }
        guard index < count || (allowingEnd && index == count) else {
            throw .failed("index \(index) in \"\(self)\" is out of range: \(array) has \(count) elements")
        }
        return index
    }
}
