import Foundation
import PeduliDomain
import Testing

@testable import PeduliWorker

@Suite("Report: percentages and output formats")
struct ReportTests {
    @Test(
        "hundredths of a percent, rounded half up in integers",
        arguments: [
            (40_196, 215_243, 1867),  // the city's baseline: 18.6747...%
            (40_196 + 1_000, 215_243, 1914),  // 19.1393...%
            (1, 3, 3333), (2, 3, 6667),
            (1, 8, 1250),  // 12.5% exactly
            (1, 16, 625),  // 6.25% exactly
            (1, 80_000, 0),  // 0.00125% rounds down
            (1, 40_000, 0),  // 0.0025%: 0.25 hundredths rounds down
            (1, 20_000, 1),  // 0.005%: exactly half a hundredth rounds up
            (3, 4, 7500), (4, 4, 10_000), (0, 4, 0),
            (5, 0, 0),  // an empty unit: 0, not a division by zero
        ])
    func hundredths(part: Int, whole: Int, expected: Int) {
        #expect(Report.hundredthsOfPercent(part, of: whole) == expected)
    }

    @Test(
        "two decimals, always",
        arguments: [
            (0, "0.00"), (5, "0.05"), (10, "0.10"), (1867, "18.67"), (10_000, "100.00"), (99, "0.99"), (100, "1.00"),
        ])
    func percentText(hundredths: Int, expected: String) {
        #expect(Report.percentText(hundredths) == expected)
    }

    static let sample = Report(
        asOf: JakartaDate(year: 2026, month: 11, day: 25)!, registered: 7, active: 3,
        baselineInformalWorkers: 215_243, baselineCovered: 40_196,
        units: [
            .init(name: "Bappeda", sponsors: 3, participating: 1, registered: 2),
            .init(name: "Dinas Tenaga Kerja", sponsors: 4, participating: 4, registered: 5),
        ],
        kecamatan: [
            .init(code: "337401", name: "Semarang Tengah", registered: 4, active: 2),
            .init(code: "337402", name: "Semarang Utara", registered: 3, active: 1),
        ],
        payments: 5, paymentsAmount: 151_200, rejected: 2,
        rejectionReasons: ["invalid_nik": 1, "amount_mismatch": 2], parked: 1, parkedReasons: ["too_large": 1])

    @Test func totalsAddTheUnits() {
        #expect(Self.sample.totalSponsors == 7)
        #expect(Self.sample.totalParticipating == 5)
        #expect(Self.sample.totalParticipationHundredths == 7143)  // 5 / 7 = 71.428...%
        #expect(Self.sample.coverageHundredths == 1868)  // 40,199 / 215,243 = 18.676...%
    }

    @Test func jsonHasStableSnakeCaseKeysAndIntegers() throws {
        let text = Self.sample.json.canonicalString()
        #expect(text == Self.sample.json.canonicalString())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "as_of", "registered", "active", "coverage", "asn_participation", "kecamatan", "payments", "rejected",
                "rejection_reasons", "parked", "parked_reasons",
            ])
        #expect(text.contains("\"payments\":{\"amount\":151200,\"count\":5}"))
        #expect(text.contains("\"rate_percent\":18.68"))
        #expect(text.contains("\"total\":{\"participating\":5,\"rate_percent\":71.43,\"sponsors\":7}"))
        #expect(text.contains("\"rejection_reasons\":{\"amount_mismatch\":2,\"invalid_nik\":1}"))
        #expect(text.contains("{\"active\":2,\"code\":\"337401\",\"name\":\"Semarang Tengah\",\"registered\":4}"))
        for key in text.matches(of: /"([a-z_]+)":/).map({ String($0.output.1) }) {
            #expect(key == key.lowercased() && !key.contains("-"), "\(key)")
        }
    }

    @Test func textTableAlignsColumns() {
        let text = Self.sample.text
        #expect(text.hasPrefix("PNS Peduli Pekerja Rentan: report as of 2026-11-25 (Asia/Jakarta)\n"))
        #expect(text.contains("coverage rate  18.68 % ((40196 + 3) / 215243)"))
        let unitLines = text.split(separator: "\n").filter {
            $0.hasPrefix("  Bappeda") || $0.hasPrefix("  Dinas") || $0.hasPrefix("  TOTAL")
        }
        #expect(unitLines.count == 3)
        // Numbers are right-aligned: every unit line has the same length and ends with its percentage.
        #expect(Set(unitLines.map(\.count)).count == 1)
        #expect(unitLines.map { String($0.split(separator: " ").last!) } == ["33.33", "100.00", "71.43"])
        #expect(text.contains("amount_mismatch"))
        #expect(text.contains("too_large"))
    }

    @Test func tableWithoutRowsIsEmpty() {
        #expect(Report.table([], header: nil) == "")
        #expect(Report.table([["a", "1"], ["bbb", "22"]], header: nil) == "  a     1\n  bbb  22\n")
        #expect(
            Report.table([["a", "x", "1"]], header: ["k", "name", "n"], leftColumns: 2)
                == "  k  name  n\n  a  x     1\n")
    }
}
