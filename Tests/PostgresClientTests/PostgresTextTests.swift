import Foundation
import Testing

@testable import PostgresClient

@Suite struct PostgresTextTests {
    /// 2026-11-25 06:31:48.123456 UTC as seconds since 1970, built from parts to avoid a second clock.
    static let instant: TimeInterval = 1_795_588_308 + 0.123456

    @Test(arguments: [
        ("2026-11-25 06:31:48.123456+00", instant),
        ("2026-11-25 13:31:48.123456+07", instant),
        ("2026-11-25 12:01:48.123456+05:30", instant),
        ("2026-11-24 23:31:48.123456-07", instant),
        ("2026-11-25T06:31:48.123456Z", instant),
        ("2026-11-25 06:31:48.123456", instant),
        ("2026-11-25 06:31:48+00", 1_795_588_308),
        ("2026-11-25 06:31:48.1+00", 1_795_588_308.1),
        ("1970-01-01 00:00:00+00", 0),
        ("1969-12-31 23:59:59.999999+00", -0.000001),
        ("2000-02-29 00:00:00+00", 951_782_400),
        ("1900-01-01 07:07:12+07:07:12", -2_208_988_800),
    ])
    func decodesTimestamps(text: String, expected: TimeInterval) throws {
        let date = try #require(PostgresText.decodeTimestamp(text))
        #expect(abs(date.timeIntervalSince1970 - expected) < 0.000_000_5, "\(text)")
    }

    @Test(arguments: [
        "infinity", "-infinity", "", "2026-11-25", "2026-13-01 00:00:00+00", "2026-02-29 00:00:00+00",
        "2026-11-25 25:00:00+00", "2026-11-25 10:61:00+00", "2026-11-25 10:00:00+0", "2026-11-25 10:00:00.+00",
        "2026-11-25 10:00+00", "26-11-25 10:00:00+00", "2026-11-25 1a:00:00+00",
    ])
    func rejectsMalformedTimestamps(text: String) {
        #expect(PostgresText.decodeTimestamp(text) == nil)
    }

    @Test(arguments: [
        (instant, "2026-11-25 06:31:48.123456+00"),
        (1_795_588_308, "2026-11-25 06:31:48+00"),
        (0, "1970-01-01 00:00:00+00"),
        (-0.000001, "1969-12-31 23:59:59.999999+00"),
        (951_782_400.5, "2000-02-29 00:00:00.5+00".replacingOccurrences(of: ".5+", with: ".500000+")),
        (-62_135_596_800, "0001-01-01 00:00:00+00"),
        (-62_135_596_801, "0001-12-31 23:59:59+00 BC"),
    ])
    func encodesTimestamps(seconds: TimeInterval, expected: String) {
        #expect(PostgresText.encodeTimestamp(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test(arguments: [
        0.0, 0.000001, 1.5, 1_795_588_308.123456, 1_795_588_308.999999, -1_000_000.654321, 4_102_444_799.000001,
    ])
    func timestampsRoundTripToTheMicrosecond(seconds: TimeInterval) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let decoded = try #require(PostgresText.decodeTimestamp(PostgresText.encodeTimestamp(date)))
        #expect(PostgresText.encodeTimestamp(decoded) == PostgresText.encodeTimestamp(date))
        #expect(abs(decoded.timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test func bcTimestampsRoundTrip() throws {
        let decoded = try #require(PostgresText.decodeTimestamp("0044-03-15 12:00:00+00 BC"))
        #expect(PostgresText.encodeTimestamp(decoded) == "0044-03-15 12:00:00+00 BC")
    }

    @Test(arguments: [("t", true), ("true", true), ("f", false), ("false", false)])
    func decodesBooleans(text: String, expected: Bool) {
        #expect(PostgresText.decodeBool(text) == expected)
    }

    @Test(arguments: ["", "T", "yes", "1", "0", "tru"])
    func rejectsOtherBooleans(text: String) {
        #expect(PostgresText.decodeBool(text) == nil)
    }

    @Test(arguments: [
        (0.1, "0.1"), (-2.5, "-2.5"), (1e20, "1e+20"), (Double.infinity, "Infinity"), (-Double.infinity, "-Infinity"),
    ])
    func encodesDoubles(value: Double, expected: String) {
        #expect(PostgresText.encode(value) == expected)
        #expect(PostgresText.decodeDouble(expected) == value)
    }

    @Test func nanRoundTrips() {
        #expect(PostgresText.encode(.nan) == "NaN")
        #expect(PostgresText.decodeDouble("NaN")?.isNaN == true)
    }

    @Test(arguments: [([UInt8](), "\\x"), ([0, 1, 0xab, 0xff], "\\x0001abff")])
    func byteaRoundTrips(bytes: [UInt8], text: String) {
        #expect(PostgresText.encodeBytea(bytes) == text)
        #expect(PostgresText.decodeBytea(text) == bytes)
    }

    @Test(arguments: ["", "0001", "\\x0", "\\xzz", "\\X00"])
    func rejectsBadBytea(text: String) {
        #expect(PostgresText.decodeBytea(text) == nil)
    }

    @Test(arguments: [("events", "\"events\""), ("a\"b", "\"a\"\"b\""), ("Mixed Case", "\"Mixed Case\"")])
    func quotesIdentifiers(raw: String, quoted: String) {
        #expect(PostgresText.quoteIdentifier(raw) == quoted)
    }

    @Test func calendarArithmeticAgreesBothWays() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let civil = PostgresText.civil(fromDays: days)
            #expect(PostgresText.days(fromCivil: civil.year, civil.month, civil.day) == days)
        }
        #expect(PostgresText.days(fromCivil: 1970, 1, 1) == 0)
        #expect(PostgresText.days(fromCivil: 2000, 3, 1) == 11_017)
    }
}
