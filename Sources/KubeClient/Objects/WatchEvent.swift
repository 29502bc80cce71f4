/// The `type` of a watch event.
public enum WatchEventType: String, Sendable, Hashable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}

/// The fields of the `Status` an ERROR event carries (410 Gone when the
/// requested resourceVersion is too old).
public struct WatchErrorStatus: Sendable, Hashable {
    public var code: Int64?
    public var reason: String?
    public var message: String?
    public var status: String?

    public init(code: Int64? = nil, reason: String? = nil, message: String? = nil, status: String? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status
    }
}

/// One event of a watch stream.
public enum WatchEvent: Sendable, Hashable {
    case added(KubeObject)
    case modified(KubeObject)
    case deleted(KubeObject)
    /// The object carries only kind, apiVersion and `metadata.resourceVersion`.
    case bookmark(KubeObject)
    case error(WatchErrorStatus)

    public var type: WatchEventType {
        switch self {
        case .added: .added
        case .modified: .modified
        case .deleted: .deleted
        case .bookmark: .bookmark
        case .error: .error
        }
    }

    /// The object of any event but ERROR.
    public var object: KubeObject? {
        switch self {
        case .added(let o), .modified(let o), .deleted(let o), .bookmark(let o): o
        case .error: nil
        }
    }

    /// Decodes one event line (`{"type":…,"object":{…}}`), with white space around allowed.
    public static func decode(line: [UInt8], cutManagedFields: Bool = false) throws(ObjectDecodingError) -> WatchEvent {
        try line.withUnsafeBufferPointer { (buffer) throws(ObjectDecodingError) -> WatchEvent in
            try decode(JSONScanner(buffer), cutManagedFields: cutManagedFields)
        }
    }

    static func decode(_ s: JSONScanner, cutManagedFields: Bool) throws(ObjectDecodingError) -> WatchEvent {
        var type: WatchEventType? = nil
        var event: WatchEvent? = nil
        var objectStart: Int? = nil  // an object met before the type
        let end = try s.forEachMember(ofObjectAt: 0, depth: 0) { (member) throws(ObjectDecodingError) -> Int? in
            if s.key(member.key, is: "type") {
                let (x, e) = try s.string(at: member.valueStart)
                guard let t = WatchEventType(rawValue: x) else {
                    throw s.error("unknown watch event type \"\(x)\"", at: member.valueStart)
                }
                type = t
                return e
            }
            if s.key(member.key, is: "object") {
                guard let type else {
                    objectStart = member.valueStart
                    return nil
                }
                let (ev, e) = try eventObject(s, type: type, at: member.valueStart, cutManagedFields: cutManagedFields)
                event = ev
                return e
            }
            return nil
        }
        try s.expectEnd(after: end)
        guard let type else { throw s.error("watch event has no type", at: 0) }
        if let objectStart {
            return try eventObject(s, type: type, at: objectStart, cutManagedFields: cutManagedFields).event
        }
        guard let event else { throw s.error("watch event has no object", at: 0) }
        return event
    }

    static func eventObject(_ s: JSONScanner, type: WatchEventType, at start: Int, cutManagedFields: Bool) throws(ObjectDecodingError) -> (event: WatchEvent, end: Int) {
        if type == .error {
            var status = WatchErrorStatus()
            let end = try s.forEachMember(ofObjectAt: start, depth: 1) { (m) throws(ObjectDecodingError) -> Int? in
                if s.key(m.key, is: "code") { let (x, e) = try s.optionalInt64(at: m.valueStart); status.code = x; return e }
                if s.key(m.key, is: "reason") { let (x, e) = try s.optionalString(at: m.valueStart); status.reason = x; return e }
                if s.key(m.key, is: "message") { let (x, e) = try s.optionalString(at: m.valueStart); status.message = x; return e }
                if s.key(m.key, is: "status") { let (x, e) = try s.optionalString(at: m.valueStart); status.status = x; return e }
                return nil
            }
            return (.error(status), end)
        }
        let start = s.skipWhitespace(start)
        let scan = try s.object(at: start, depth: 1, cutManagedFields: cutManagedFields)
        let object = s.object(scan, from: start, apiVersion: scan.apiVersion ?? "", kind: scan.kind ?? "")
        switch type {
        case .added: return (.added(object), scan.end)
        case .modified: return (.modified(object), scan.end)
        case .deleted: return (.deleted(object), scan.end)
        case .bookmark: return (.bookmark(object), scan.end)
        case .error: fatalError("unreachable")
        }
    }
}

/// A watch line that is not a valid event, or a stream that broke off.
public struct WatchDecodingError: Error, Sendable, CustomStringConvertible {
    /// Byte offset in the whole stream (since the decoder was created).
    public var offset: Int
    /// 1-based line number in the stream.
    public var line: Int
    public var reason: String
    /// Events of the same `feed` call decoded before the bad line.
    public var eventsBeforeError: [WatchEvent]

    public var description: String { "invalid watch event on line \(line): \(reason) at byte \(offset)" }
}

/// Splits a watch response body into events. Feed it the body's chunks as
/// they arrive, split anywhere; complete lines are decoded straight from the
/// chunk, and only the current partial line is kept between calls.
///
/// After an error the stream is broken (a watch must be restarted from the
/// last resourceVersion seen): every later call throws the same error.
public struct WatchLineDecoder: Sendable {
    public var cutManagedFields: Bool
    /// A line longer than this is an error rather than unbounded buffering.
    public var maxLineLength: Int
    /// The bytes of the line not yet terminated.
    public private(set) var partialLine: [UInt8] = []
    /// Bytes fed so far.
    public private(set) var streamOffset = 0
    private var lineNumber = 1
    private var failure: WatchDecodingError?

    /// The default `maxLineLength`: 64 MiB.
    public static let defaultMaxLineLength = 64 << 20

    public init(cutManagedFields: Bool = false, maxLineLength: Int = defaultMaxLineLength) {
        self.cutManagedFields = cutManagedFields
        self.maxLineLength = maxLineLength
    }

    /// A decoder for a run of whole lines that starts `streamOffset` bytes into the stream (error
    /// offsets count from the stream's start; line numbers from the run's first line).
    init(cutManagedFields: Bool, streamOffset: Int) {
        self.init(cutManagedFields: cutManagedFields)
        self.streamOffset = streamOffset
    }

    /// Lines completed so far (blank ones included).
    var linesDecoded: Int { lineNumber - 1 }

    /// Decodes the events completed by `chunk`.
    public mutating func feed<Chunk: Collection<UInt8>>(_ chunk: Chunk) throws(WatchDecodingError) -> [WatchEvent] {
        let result = chunk.withContiguousStorageIfAvailable { buffer in
            Result { () throws(WatchDecodingError) -> [WatchEvent] in try feed(buffer: buffer) }
        } ?? Array(chunk).withUnsafeBufferPointer { buffer in
            Result { () throws(WatchDecodingError) -> [WatchEvent] in try feed(buffer: buffer) }
        }
        return try result.get()
    }

    /// Ends the stream: a last line without a newline is decoded; nil if there is none.
    public mutating func finish() throws(WatchDecodingError) -> WatchEvent? {
        if let failure { throw failure }
        defer { partialLine = [] }
        let lineStart = streamOffset - partialLine.count
        return try partialLine.withUnsafeBufferPointer { (buffer) throws(WatchDecodingError) -> WatchEvent? in
            try decodeLine(buffer, at: lineStart, before: [])
        }
    }

    public mutating func feed(buffer chunk: UnsafeBufferPointer<UInt8>) throws(WatchDecodingError) -> [WatchEvent] {
        if var failure {
            failure.eventsBeforeError = []
            throw failure
        }
        var events: [WatchEvent] = []
        let chunkOffset = streamOffset
        streamOffset += chunk.count
        var pos = 0
        while pos < chunk.count {
            let newline = newlineIndex(in: UnsafeRawBufferPointer(chunk), from: pos) ?? chunk.count
            if newline == chunk.count {
                partialLine.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[pos...]))
                if partialLine.count > maxLineLength {
                    throw fail(WatchDecodingError(offset: chunkOffset + chunk.count, line: lineNumber,
                                                  reason: "line longer than \(maxLineLength) bytes", eventsBeforeError: events))
                }
                break
            }
            let event: WatchEvent?
            if partialLine.isEmpty {
                event = try decodeLine(UnsafeBufferPointer(rebasing: chunk[pos..<newline]), at: chunkOffset + pos, before: events)
            } else {
                partialLine.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[pos..<newline]))
                let lineStart = chunkOffset + newline - partialLine.count
                let line = partialLine
                // Keep a small buffer's capacity for the next split line; free a large one.
                partialLine.removeAll(keepingCapacity: partialLine.capacity <= 1 << 16)
                event = try line.withUnsafeBufferPointer { (buffer) throws(WatchDecodingError) -> WatchEvent? in
                    try decodeLine(buffer, at: lineStart, before: events)
                }
            }
            if let event { events.append(event) }
            lineNumber += 1
            pos = newline + 1
        }
        return events
    }

    private mutating func fail(_ error: WatchDecodingError) -> WatchDecodingError {
        failure = error
        partialLine = []
        return error
    }

    /// Decodes one line; nil for a blank line.
    private mutating func decodeLine(_ line: UnsafeBufferPointer<UInt8>, at lineStart: Int, before: [WatchEvent]) throws(WatchDecodingError) -> WatchEvent? {
        let scanner = JSONScanner(line, baseOffset: lineStart)
        if scanner.skipWhitespace(0) == line.count { return nil }
        do {
            return try WatchEvent.decode(scanner, cutManagedFields: cutManagedFields)
        } catch {
            throw fail(WatchDecodingError(offset: error.offset, line: lineNumber, reason: error.reason, eventsBeforeError: before))
        }
    }
}
