import Testing
@testable import PluginConfig

/// Go-style duration strings.
@Suite struct GoDurationTests {
    @Test(arguments: [
        ("0", Duration.zero), ("0s", .zero), ("500ms", .milliseconds(500)), ("10s", .seconds(10)),
        ("1m30s", .seconds(90)), ("2h", .seconds(7200)), ("1.5h", .seconds(5400)), (".5s", .milliseconds(500)),
        ("1.s", .seconds(1)), ("250us", .microseconds(250)), ("250µs", .microseconds(250)), ("7ns", .nanoseconds(7)),
        ("1h1m1s1ms", .seconds(3661) + .milliseconds(1)), ("0.000000001s", .nanoseconds(1)),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try GoDuration.parse(text) == expected)
    }

    @Test(arguments: [
        ("", GoDuration.ParseError.empty), ("-1s", .negative), ("+1s", .invalid), ("10", .missingUnit), ("1m30", .missingUnit),
        ("s", .invalid), (".s", .invalid), ("1d", .unknownUnit("d")), ("10 s", .unknownUnit(" s")), ("1e3s", .unknownUnit("e")),
        ("3000000h", .tooLarge), ("1h-1m", .unknownUnit("h-")),
    ])
    func refuses(text: String, error: GoDuration.ParseError) {
        #expect(throws: error) { try GoDuration.parse(text) }
    }

    @Test(arguments: [
        (Duration.zero, "0s"), (.nanoseconds(7), "7ns"), (.microseconds(1500), "1.5ms"), (.milliseconds(5), "5ms"),
        (.seconds(10), "10s"), (.seconds(90), "1m30s"), (.seconds(7200), "2h0m0s"), (.milliseconds(1500), "1.5s"),
        (.microseconds(2), "2µs"),
    ])
    func formatsLikeGo(duration: Duration, text: String) throws {
        #expect(GoDuration.format(duration) == text)
        #expect(try GoDuration.parse(text) == duration)
    }
}
