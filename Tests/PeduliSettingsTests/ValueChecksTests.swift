import Testing

@testable import PeduliSettings

@Suite("Value checks")
struct ValueChecksTests {
    static let prefetch = ConfigurationKeys["worker.prefetch"]

    @Test("text and typed value out of range give the same error", arguments: [0, 65_536, -1])
    func integerRange(value: Int) {
        var fromText: ConfigurationError?
        var fromValue: ConfigurationError?
        do { _ = try Self.prefetch.integer(from: String(value)) } catch { fromText = error }
        do { try Self.prefetch.check(value) } catch { fromValue = error }
        #expect(fromText != nil && fromText == fromValue)
        #expect(fromText?.description == "worker.prefetch = \"\(value)\": expected an integer from 1 to 65535")
    }

    @Test("a Double setting: fractions inside the range pass, whole values outside fail as integers do")
    func doubles() throws {
        let skew = ConfigurationKeys["rules.max_clock_skew_seconds"]
        try skew.check(0.5)
        #expect(
            throws: ConfigurationError(
                code: "invalid_value", key: skew.name, value: "-5", expected: "an integer from 0 to 86400")
        ) {
            try skew.check(-5.0)
        }
    }

    @Test("booleans", arguments: [("yes", true), ("OFF", false), ("1", true), ("false", false)])
    func booleans(text: String, value: Bool) throws {
        #expect(try ConfigurationKeys["roster.enforce"].boolean(from: text) == value)
    }

    @Test(
        "names are AMQP short strings",
        arguments: [("peduli.dead", true), ("", false), ("a b", false), (String(repeating: "x", count: 256), false)])
    func names(text: String, valid: Bool) {
        #expect((try? ConfigurationKeys["topology.dead_queue"].name(from: text)) != nil || !valid)
        #expect((try? ConfigurationKeys["topology.dead_queue"].name(from: text)) == nil || valid)
    }

    @Test("listen addresses")
    func listen() throws {
        let key = ConfigurationKeys["metrics.listen"]
        #expect(try key.listen(from: "") == nil)
        #expect(try key.listen(from: "[::1]:9100")?.host == "::1")
        #expect(try key.listen(from: "0.0.0.0:80")?.port == 80)
        #expect(throws: ConfigurationError.self) { try key.listen(from: "9464") }
    }

    @Test("integer lists: one error per bad item, and one when none is left")
    func integerLists() throws {
        let key = ConfigurationKeys["rules.payment_months"]
        let parsed = key.integers(from: ["0", "x"])
        #expect(parsed.values.isEmpty)
        #expect(parsed.errors.map(\.value) == ["0", "x", ""])
        #expect(throws: parsed.errors[0]) { try key.check([0, 1]) }
        #expect(throws: parsed.errors[2]) { try key.check([Int]()) }
    }

    @Test(
        "delays",
        arguments: [
            ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("1h", .seconds(3600)),
            ("24h", .seconds(86_400)),
        ])
    func delays(text: String, delay: Duration) {
        #expect(ConfigurationKeys["topology.retry_delays"].delays(from: [text]).values == [delay])
    }

    @Test("bad delays and decreasing ones", arguments: [["25h"], ["0s"], ["10x"], ["1m", "10s"], ["10s", "10s"]])
    func badDelays(items: [String]) {
        #expect(ConfigurationKeys["topology.retry_delays"].delays(from: items).errors.count == 1)
    }

    @Test("rates: the reader's text and the domain's table fail alike")
    func rates() throws {
        let key = ConfigurationKeys["rules.rates"]
        #expect(key.rates(from: []).errors.map(\.code) == ["empty"])
        #expect(key.rates(from: ["2019-02-30:16800"]).errors.map(\.code) == ["invalid_value"])
        let tooMuch = key.rates(from: ["2020-01-01:1000000001"])
        #expect(tooMuch.errors.map(\.code) == ["bad_rate"])
        #expect(throws: tooMuch.errors[0]) {
            try key.check([ConfigurationRate(effectiveFrom: "2020-01-01", monthlyAmount: 1_000_000_001)])
        }
        let twice = key.rates(from: ["2020-01-01:1", "2020-01-01:2"])
        #expect(twice.errors.map(\.code) == ["duplicate_rate_date"])
        #expect(
            key.rates(from: ["2027-01-01:20000", "2019-12-02:16800"]).values.map(\.effectiveFrom) == [
                "2019-12-02", "2027-01-01",
            ])
    }
}
