import Testing

@testable import PeduliDomain

struct ReportsTests {
    @Test(arguments: [
        ("2026-11", false, "2026-11-30", true),
        ("2026-12", false, "2026-11-01", true),
        ("2026-10", false, "2026-11-01", false),
        ("2026-11", true, "2026-11-15", false),
        (nil as String?, false, "2026-11-15", false),
    ])
    func active(paidThrough: String?, ended: Bool, on: String, expected: Bool) {
        #expect(Reports.isActive(paidThrough: paidThrough.map(ym), ended: ended, on: date(on)) == expected)
    }

    @Test func rates() {
        #expect(abs(Reports.coverageRate(active: 0, config: config) - 0.18675) < 0.0001)
        #expect(abs(Reports.coverageRate(active: 10_000, config: config) - 50_196.0 / 215_243.0) < 1e-12)
        #expect(Reports.participationRate(sponsorsWithRegistration: 3, sponsorsOnRoster: 4) == 0.75)
        #expect(Reports.participationRate(sponsorsWithRegistration: 0, sponsorsOnRoster: 0) == 0)
    }
}
