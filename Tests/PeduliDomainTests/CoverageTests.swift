import Foundation
import PropertyBased
import Testing

@testable import PeduliDomain

struct CoverageTests {
    @Test(arguments: [
        (nil as String?, "2026-12", 3, "2026-12", "2027-02"),
        ("2026-08", "2026-11", 3, "2026-09", "2026-11"),
        ("2027-06", "2026-12", 12, "2027-07", "2028-06"),
        ("2026-12", "2026-12", 1, "2027-01", "2027-01"),
    ])
    func months(paidThrough: String?, paidAtMonth: String, months: Int, from: String, through: String) {
        let r = Coverage.months(paidThrough: paidThrough.map(ym), paidAtMonth: ym(paidAtMonth), months: months)
        #expect(r.lowerBound == ym(from))
        #expect(r.upperBound == ym(through))
    }

    @Test(arguments: [("2026-01", 5), ("2026-05", 1), ("2026-06", 0), ("2027-01", 0)])
    func monthsLeft(from: String, left: Int) {
        #expect(Coverage.monthsLeft(from: ym(from), birth: date("1961-05-20"), maximumMonths: 779) == left)
    }

    /// Whatever the sequence of payments, confirmed coverage is contiguous: no overlap, no gap,
    /// and paid_through advances by exactly the months paid.
    @Test func coverageNeverOverlapsNorLeavesGaps() async {
        let choices = [1, 2, 3, 6, 12]
        await propertyCheck(
            count: 200, input: Gen.element(of: choices).array(of: 1...15),
            Gen.int(in: 0...80).array(of: 15)
        ) { monthsList, gaps in
            var reg = registrationState(birth: "1990-06-15")
            var paidAt = instant("2026-11-21T10:00:00+07:00")
            var covered: [YearMonth] = []
            for (i, m) in monthsList.enumerated() {
                let months = Int64(m!)
                paidAt = paidAt.addingTimeInterval(TimeInterval(gaps[i] * 86_400))
                let body = paymentBody(months: months, paidAt: RFC3339.format(paidAt))
                let draft = PaymentDraft.decode(body, config: config, now: paidAt)
                let decision = decidePayment(
                    draft, facts: PaymentFacts(payer: .active, registration: reg), config: config)
                switch decision {
                case .confirmed(let c):
                    if let p = reg.paidThrough {
                        #expect(c.coveredFrom == p.adding(months: 1))
                    } else {
                        #expect(c.coveredFrom == JakartaDate(paidAt).yearMonth)
                    }
                    #expect(c.coveredThrough.months(since: c.coveredFrom) + 1 == m!)
                    var month = c.coveredFrom
                    while month <= c.coveredThrough {
                        covered.append(month)
                        month = month.adding(months: 1)
                    }
                    reg.paidThrough = c.newPaidThrough
                case .rejected(let e):
                    // The only way a valid payment fails here: it came after the grace.
                    #expect(e.map(\.code) == [.membershipEnded])
                    #expect(
                        !Grace.isOpen(
                            on: JakartaDate(paidAt), acceptedOn: JakartaDate(reg.acceptedAt!),
                            paidThrough: reg.paidThrough, config: config))
                    return
                case .unknownRegistration:
                    Issue.record("registration was given")
                }
            }
            for (a, b) in zip(covered, covered.dropFirst()) { #expect(b == a.adding(months: 1)) }
            #expect(Set(covered).count == covered.count)
        }
    }
}
