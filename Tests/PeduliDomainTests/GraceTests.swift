import Foundation
import Testing

@testable import PeduliDomain

struct GraceTests {
    @Test(arguments: [
        ("2026-11-20", "2027-02-20"),
        ("2026-11-30", "2027-02-28"),
        ("2027-11-30", "2028-02-29"),
        ("2026-10-31", "2027-01-31"),
    ])
    func neverPaidEndDate(accepted: String, end: String) {
        #expect(Grace.neverPaidEndDate(acceptedOn: date(accepted), config: config) == date(end))
    }

    @Test(arguments: [
        ("2026-11-19", true), ("2026-11-30", true), ("2026-12-01", false), ("2027-03-01", false),
    ])
    func paidThroughAugust(on: String, open: Bool) {
        #expect(
            Grace.isOpen(on: date(on), acceptedOn: date("2026-01-10"), paidThrough: ym("2026-08"), config: config)
                == open)
    }

    @Test(arguments: [("2027-02-19", true), ("2027-02-20", false)])
    func neverPaidOpen(on: String, open: Bool) {
        #expect(Grace.isOpen(on: date(on), acceptedOn: date("2026-11-20"), paidThrough: nil, config: config) == open)
    }

    @Test func firstDueDate() {
        #expect(Grace.firstDueDate(acceptedOn: date("2026-11-20"), config: config) == date("2026-12-04"))
        #expect(Grace.firstDueDate(acceptedOn: date("2026-12-25"), config: config) == date("2027-01-08"))
    }

    @Test func graceMonthsIsConfigurable() {
        var c = config
        c.graceMonths = 1
        #expect(Grace.paidEndDate(paidThrough: ym("2026-08"), config: c) == date("2026-10-01"))
    }

    @Test func classifySplitsOpenFromLapsed() {
        func accepted(_ day: String) -> Date { date(day).startInstant }
        let open = OpenRegistration(id: UUID(), acceptedAt: accepted("2026-11-20"), paidThrough: nil)
        let paid = OpenRegistration(id: UUID(), acceptedAt: accepted("2026-01-10"), paidThrough: ym("2026-08"))
        let lapsed = OpenRegistration(id: UUID(), acceptedAt: accepted("2026-01-10"), paidThrough: ym("2026-02"))
        let onDate = date("2026-11-25")
        let none = Grace.classify([], on: onDate, config: config)
        #expect(!none.hasOpen && none.lapsed.isEmpty)
        let all = Grace.classify([open, lapsed, paid], on: onDate, config: config)
        #expect(all.hasOpen)
        #expect(all.lapsed == [lapsed.id])
        let onlyLapsed = Grace.classify([lapsed], on: onDate, config: config)
        #expect(!onlyLapsed.hasOpen && onlyLapsed.lapsed == [lapsed.id])
    }
}
