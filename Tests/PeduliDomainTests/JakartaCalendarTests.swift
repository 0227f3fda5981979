import Foundation
import Testing

@testable import PeduliDomain

struct JakartaCalendarTests {
    @Test(arguments: [
        ("2026-11-20T23:30:00Z", "2026-11-21"),
        ("2026-11-20T16:59:59Z", "2026-11-20"),
        ("2026-11-20T17:00:00Z", "2026-11-21"),
        ("2026-11-21T00:10:00+07:00", "2026-11-21"),
        ("2026-11-21T06:59:59+07:00", "2026-11-21"),
        ("2026-12-31T20:00:00-05:00", "2027-01-01"),
        ("1969-12-31T17:00:00Z", "1970-01-01"),
        ("1969-12-31T16:59:59Z", "1969-12-31"),
        ("2024-02-29T12:00:00.123456+07:00", "2024-02-29"),
    ])
    func jakartaDateOfInstant(text: String, expected: String) {
        #expect(JakartaDate(instant(text)).description == expected)
    }

    @Test(arguments: [
        "2026-11-20", "2026-11-20T09:15:00", "2026-11-20T09:15:00+0700", "2026-11-20 09:15:00Z",
        "2026-02-30T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T09:60:00Z", "2026-11-20T09:15:60Z",
        "2026-11-20T09:15:00.Z", "2026-11-20T09:15:00+07:00x", "2026-11-20T09:15:00+25:00",
    ])
    func rejectsBadTimestamps(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsInJakartaTime() {
        #expect(RFC3339.format(instant("2026-11-20T23:30:00Z")) == "2026-11-21T06:30:00+07:00")
        #expect(RFC3339.format(instant("2026-11-20T09:15:00.999+07:00")) == "2026-11-20T09:15:00+07:00")
    }

    @Test(arguments: ["2024-02-29", "2000-02-29", "2026-12-31", "0001-01-01", "9999-12-31"])
    func parsesRealDates(text: String) {
        #expect(JakartaDate.parse(text)?.description == text)
    }

    @Test(arguments: [
        "2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-1-01", "20261101", "2026-11-00",
    ])
    func rejectsUnrealDates(text: String) {
        #expect(JakartaDate.parse(text) == nil)
    }

    @Test func dayNumberRoundTrip() {
        var d = date("1899-12-25")
        for _ in 0..<200_000 {
            let next = d.adding(days: 1)
            #expect(next.daysSinceEpoch == d.daysSinceEpoch + 1)
            #expect(next > d)
            d = next
        }
        #expect(date("1970-01-01").daysSinceEpoch == 0)
        #expect(date("2026-11-20").startInstant == instant("2026-11-20T00:00:00+07:00"))
    }

    @Test(arguments: [
        ("2026-11-30", 3, "2027-02-28"),
        ("2027-11-30", 3, "2028-02-29"),
        ("2026-11-20", 3, "2027-02-20"),
        ("2026-01-31", 1, "2026-02-28"),
        ("2026-05-31", -1, "2026-04-30"),
    ])
    func addingMonthsClamps(start: String, months: Int, expected: String) {
        #expect(date(start).adding(months: months).description == expected)
    }

    @Test func yearMonthArithmetic() {
        #expect(ym("2026-11").adding(months: 2).description == "2027-01")
        #expect(ym("2026-01").adding(months: -1).description == "2025-12")
        #expect(ym("2027-02").months(since: ym("2026-11")) == 3)
        #expect(ym("2028-02").lastDay.description == "2028-02-29")
        #expect(YearMonth.parse("2026-13") == nil)
        #expect(YearMonth.parse("2026-00") == nil)
        #expect(YearMonth.parse("2026-1") == nil)
    }
}
