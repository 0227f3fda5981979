import Testing

@testable import PeduliDomain

struct ContributionRatesTests {
    @Test func defaultIs16800() {
        #expect(ContributionRates.default.monthlyAmount(on: date("2026-12-01")) == 16_800)
        #expect(ContributionRates.default.monthlyAmount(on: date("2019-12-02")) == 16_800)
        #expect(ContributionRates.default.monthlyAmount(on: date("2019-12-01")) == nil)
    }

    @Test(arguments: [("2026-12-31", 16_800 as Int64), ("2027-01-01", 20_000), ("2030-06-01", 20_000)])
    func datedTable(on: String, amount: Int64) throws {
        let rates = try ContributionRates([
            ContributionRate(effectiveFrom: date("2027-01-01"), monthlyAmount: 20_000),
            ContributionRate(effectiveFrom: date("2019-12-02"), monthlyAmount: 16_800),
        ])
        #expect(rates.monthlyAmount(on: date(on)) == amount)
    }

    @Test func rateChangeAppliesAtPaidAtInJakarta() throws {
        var c = config
        c.contributionRates = try ContributionRates([
            ContributionRate(effectiveFrom: date("2019-12-02"), monthlyAmount: 16_800),
            ContributionRate(effectiveFrom: date("2027-01-01"), monthlyAmount: 20_000),
        ])
        // 31 Dec 17:30 UTC is already 1 January in Jakarta.
        let body = payment([("months", 1), ("amount", 16_800), ("paid_at", "2026-12-31T17:30:00Z")])
        let d = PaymentDraft.decode(body, config: c, now: instant("2027-01-01T01:00:00+07:00"))
        #expect(d.errors.map(\.code) == [.amountMismatch])
        #expect(d.errors.first?.message.contains("Rp 20.000") == true)
    }

    @Test(arguments: [
        ([] as [ContributionRate], "empty"),
        (
            [
                ContributionRate(effectiveFrom: date("2020-01-01"), monthlyAmount: 1),
                ContributionRate(effectiveFrom: date("2020-01-01"), monthlyAmount: 2),
            ], "duplicate_rate_date"
        ),
        ([ContributionRate(effectiveFrom: date("2020-01-01"), monthlyAmount: 0)], "bad_rate"),
    ])
    func rejectsBadTables(rates: [ContributionRate], code: String) {
        do {
            _ = try ContributionRates(rates)
            Issue.record("accepted")
        } catch {
            #expect(error.code == code)
        }
    }
}
