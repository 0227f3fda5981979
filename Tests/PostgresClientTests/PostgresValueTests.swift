import Foundation
import Testing

@testable import PostgresClient

@Suite struct PostgresValueTests {
    @Test func encodesScalars() {
        #expect("Semarang".postgresText == "Semarang")
        #expect(Int(-42).postgresText == "-42")
        #expect(Int64.max.postgresText == "9223372036854775807")
        #expect(Int32.min.postgresText == "-2147483648")
        #expect(true.postgresText == "t")
        #expect(false.postgresText == "f")
        #expect(
            UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!.postgresText
                == "e621e1f8-c36c-495a-93fc-0c247a3e6e5f")
        #expect(PostgresDate(year: 2026, month: 2, day: 3)!.postgresText == "2026-02-03")
        #expect([UInt8]([0xde, 0xad]).postgresText == "\\xdead")
    }

    @Test func declaresTypesOnlyWhereTextIsAmbiguous() {
        #expect("x".postgresTypeOID == 0)
        #expect(1.postgresTypeOID == 0)
        #expect(true.postgresTypeOID == 16)
        #expect(Date().postgresTypeOID == 1184)
        #expect(UUID().postgresTypeOID == 2950)
        #expect(PostgresDate(year: 2026, month: 1, day: 1)!.postgresTypeOID == 1082)
        #expect([UInt8]().postgresTypeOID == 17)
    }

    @Test(arguments: [
        (2024, 2, 29, true), (2023, 2, 29, false), (1900, 2, 29, false), (2000, 2, 29, true),
        (2026, 4, 31, false), (2026, 12, 31, true), (2026, 13, 1, false), (2026, 0, 1, false),
        (2026, 1, 0, false), (0, 1, 1, false), (10000, 1, 1, false),
    ])
    func validatesCalendarDates(year: Int, month: Int, day: Int, valid: Bool) {
        #expect((PostgresDate(year: year, month: month, day: day) != nil) == valid)
    }

    @Test(arguments: [
        ("2026-11-25", "2026-11-25"), ("2024-02-29", "2024-02-29"), ("2026-2-3", nil), ("2026-02-30", nil),
        ("20260225", nil), ("2026-02-25 ", nil), ("", nil), ("2026-0a-01", nil), ("+026-01-01", nil),
    ])
    func parsesISODates(text: String, expected: String?) {
        #expect(PostgresDate(text)?.description == expected)
    }

    @Test func jakartaCalendarDay() throws {
        let jakarta = try #require(TimeZone(identifier: "Asia/Jakarta"))
        // 2026-11-24 17:30 UTC is already 2026-11-25 00:30 in Jakarta (UTC+7).
        let instant = Date(timeIntervalSince1970: 1_795_541_400)
        #expect(PostgresDate(instant, in: jakarta).description == "2026-11-25")
        #expect(PostgresDate(instant, in: TimeZone(secondsFromGMT: 0)!).description == "2026-11-24")
    }

    @Test func dateArithmeticAndOrder() throws {
        let leapDay = try #require(PostgresDate(year: 2028, month: 2, day: 28))
        #expect(leapDay.adding(days: 1)?.description == "2028-02-29")
        #expect(leapDay.adding(days: 2)?.description == "2028-03-01")
        #expect(leapDay.adding(days: -59)?.description == "2027-12-31")
        #expect(PostgresDate(year: 1970, month: 1, day: 1)?.daysSinceEpoch == 0)
        #expect(PostgresDate(year: 2026, month: 1, day: 31)! < PostgresDate(year: 2026, month: 2, day: 1)!)
    }
}
