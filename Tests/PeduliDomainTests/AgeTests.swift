import PropertyBased
import Testing

@testable import PeduliDomain

struct AgeTests {
    @Test(arguments: [
        ("1961-05-20", "2026-04-19", 778),
        ("1961-05-20", "2026-04-20", 779),
        ("1961-05-20", "2026-05-19", 779),
        ("1961-05-20", "2026-05-20", 780),
        ("1990-01-31", "1990-02-27", 0),
        ("1990-01-31", "1990-02-28", 1),  // 31st: completes on February's last day
        ("1990-01-31", "1990-04-30", 3),
        ("2000-02-29", "2018-02-27", 215),
        ("2000-02-29", "2018-02-28", 216),  // 29 Feb: completes on 28 Feb
        ("2000-02-29", "2020-02-28", 239),
        ("2000-02-29", "2020-02-29", 240),
        ("2008-11-21", "2026-11-20", 215),  // 18 years minus a day
        ("2008-11-20", "2026-11-20", 216),
    ])
    func completedMonths(birth: String, on: String, months: Int) {
        #expect(Age.completedMonths(birth: date(birth), on: date(on)) == months)
    }

    @Test(arguments: [
        ("1961-05-20", "2026-05-19", nil as RuleCode?),
        ("1961-05-20", "2026-05-20", .ageAboveLimit),
        ("2008-11-21", "2026-11-20", .ageBelowMinimum),
        ("2008-11-20", "2026-11-20", nil),
    ])
    func registrationRule(birth: String, on: String, code: RuleCode?) {
        let v = Age.registrationViolations(birth: date(birth), submittedOn: date(on), config: config)
        #expect(v.first?.code == code)
        #expect(v.allSatisfy { $0.field == "worker.birth_date" })
        if code == .ageAboveLimit { #expect(v.first?.message == "Usia pekerja melebihi batas 64 tahun 11 bulan") }
    }

    @Test(arguments: [("1961-05-20", "2026-05"), ("1961-05-01", "2026-04"), ("1961-05-02", "2026-05")])
    func lastCoverableMonth(birth: String, expected: String) {
        #expect(Age.lastCoverableMonth(birth: date(birth), maximumMonths: 779).description == expected)
    }

    @Test func lastCoverableMonthMatchesDefinition() async {
        await propertyCheck(count: 400, input: Gen.int(in: -25_000...10_000), Gen.int(in: 0...900)) { offset, max in
            let birth = JakartaDate(daysSinceEpoch: Int64(offset))
            let last = Age.lastCoverableMonth(birth: birth, maximumMonths: max)
            #expect(Age.isCoverable(last, birth: birth, maximumMonths: max))
            #expect(!Age.isCoverable(last.adding(months: 1), birth: birth, maximumMonths: max))
        }
    }
}
