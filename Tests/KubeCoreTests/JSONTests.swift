import Testing
@testable import KubeCore

@Suite struct JSONTests {
    @Test func parsesAndSerializesWithSortedKeys() throws {
        let json = try JSON.parse(#"{"b": [1, 2.5, "x\n\u00e9"], "a": {"z": null, "y": true}}"#)
        #expect(json["b"] == [1, 2.5, "x\né"])
        #expect(json.serializedString() == #"{"a":{"y":true,"z":null},"b":[1,2.5,"x\né"]}"#)
    }

    @Test func integersAndDoublesStayApart() throws {
        #expect(try JSON.parse("3") == .int(3))
        #expect(try JSON.parse("3.0") == .double(3))
        #expect(try JSON.parse("-1e3") == .double(-1000))
        #expect(try JSON.parse("12345678901234567890") == .double(12345678901234567890))
    }

    @Test func escapesLikeGo() {
        let json: JSON = .string("<a&b>\u{2028}\"\\\u{01}")
        #expect(json.serializedString() == #""\u003ca\u0026b\u003e\u2028\"\\\u0001""#)
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func syntaxErrorsNameThePlace() {
        #expect(throws: JSONParseError.self) { try JSON.parse("{\"a\": }") }
        do {
            _ = try JSON.parse("{\n  \"a\": tru }")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.message.contains("literal true"))
        }
        #expect(throws: JSONParseError.self) { try JSON.parse("[1, 2") }
        #expect(throws: JSONParseError.self) { try JSON.parse("{} x") }
        #expect(throws: JSONParseError.self) { try JSON.parse("01") }
        #expect(throws: JSONParseError.self) { try JSON.parse("\"a\u{01}\"") }
    }

    @Test func depthIsBounded() {
        let deep = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
    }

    @Test func pathSubscriptCreatesAndRemoves() {
        var json: JSON = [:]
        json[path: ["metadata", "labels", "app"]] = "web"
        #expect(json.serializedString() == #"{"metadata":{"labels":{"app":"web"}}}"#)
        json[path: ["metadata", "labels", "app"]] = nil
        #expect(json.serializedString() == #"{"metadata":{"labels":{}}}"#)
    }
}
