import Foundation
import Logging
import PeduliDomain
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import Testing

/// docs/rules.md "Reports" against a database filled through the real pipeline; every expected figure is
/// computed here from what the test sent, not read back from the worker's tables.
@Suite(.serialized) struct ReportTests {
    struct Sent {
        var accepted: [(registration: SampleWorkload.Registration, sponsor: SampleWorkload.Sponsor)] = []
        var paid: [SampleWorkload.Payment] = []
        var sponsors: [SampleWorkload.Sponsor] = []
    }

    /// Two units; sponsors 1-3 of "Dinas A" and 5 of "Dinas B" register, 4 and 6 do not, 7 is inactive.
    static func fill(_ h: PipelineHarness) async throws -> Sent {
        var sent = Sent()
        func sponsor(_ i: Int, _ unit: String, active: Bool = true) -> SampleWorkload.Sponsor {
            var s = h.samples.sponsor(i, active: active)
            s.unit = unit
            return s
        }
        sent.sponsors = [
            sponsor(1, "Dinas A"), sponsor(2, "Dinas A"), sponsor(3, "Dinas A"), sponsor(4, "Dinas A"),
            sponsor(5, "Dinas B"), sponsor(6, "Dinas B"), sponsor(7, "Dinas B", active: false),
        ]
        try h.roster(sent.sponsors)
        let s = sent.sponsors
        let plan = [(11, s[0]), (12, s[0]), (13, s[1]), (14, s[2]), (15, s[4]), (16, s[4])]
        for (index, sp) in plan { sent.accepted.append((h.samples.registration(index, sponsor: sp), sp)) }
        let rejectedBodies: [JSONValue] = [
            h.samples.registration(21, sponsor: s[0]).body.setting("worker.gender", to: "X")
                .setting("worker.occupation", to: "Z999"),
            h.samples.registration(22, sponsor: s[6]).body,  // inactive sponsor
            h.samples.registration(23, sponsor: s[1]).body.setting("worker.actively_working", to: .bool(false)),
        ]
        let payments = [
            h.samples.payment(1, for: sent.accepted[0].registration, payer: s[0], months: 3),
            h.samples.payment(2, for: sent.accepted[2].registration, payer: s[1], months: 1),
            h.samples.payment(3, for: sent.accepted[4].registration, payer: s[3], months: 12),
        ]
        sent.paid = payments
        var wrongAmount = h.samples.payment(4, for: sent.accepted[1].registration, payer: s[0], months: 2)
        wrongAmount.body = wrongAmount.body.setting("amount", to: .int(1000))

        let accepted = sent.accepted.map(\.registration), wrongPayment = wrongAmount
        try await h.withWorker {
            for r in accepted { try await h.register(r) }
            for body in rejectedBodies {
                try await h.publish([
                    (h.pipeline.topology.registrationsRoutingKey, body.canonicalJSON(), PipelineHarness.properties())
                ])
            }
            try await h.publish([
                (
                    h.pipeline.topology.registrationsRoutingKey, Array("{}".utf8),
                    PipelineHarness.properties(contentType: "text/plain")
                )
            ])
            try await h.waitFor("registrations") { e, d in
                e.filter { $0.type.hasPrefix("registration.") }.count == 9 && d.count == 1
            }
            for p in payments { try await h.pay(p) }
            try await h.pay(wrongPayment)
            try await h.waitFor("payments") { e, _ in e.filter { $0.type.hasPrefix("payment.") }.count == 4 }
        }
        return sent
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "0.00" : String(format: "%.2f", Double(part) * 100 / Double(whole))
    }

    /// Error codes of the captured rejection events, counted.
    static func rejectionCodes(_ h: PipelineHarness) -> (commands: Int, codes: [String: Int]) {
        let rejected = h.capturedEvents.filter { $0.type.hasSuffix(".rejected") }
        var codes: [String: Int] = [:]
        for event in rejected {
            guard case .array(let errors)? = event.json?.objectValue?["errors"] else { continue }
            for e in errors { if case .string(let c)? = e.objectValue?["code"] { codes[c, default: 0] += 1 } }
        }
        return (rejected.count, codes)
    }

    @Test func figuresMatchWhatWasSent() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sent = try await Self.fill(h)
        let today = JakartaDate(Date())
        let db = h.database, programme = h.programme
        let report = try await onOwnThread {
            try Report.build(
                asOf: today, database: db, programme: programme, baselineInformalWorkers: 215_243,
                baselineCovered: 40_196, logger: Logger(label: "report-test"))
        }

        #expect(report.registered == sent.accepted.count)
        let paidIDs = Set(sent.paid.map(\.registrationID))
        #expect(report.active == paidIDs.count)
        #expect(Report.percentText(report.coverageHundredths) == Self.percent(40_196 + paidIDs.count, 215_243))

        // Units: active roster sponsors, and those with at least one accepted registration.
        for unit in ["Dinas A", "Dinas B"] {
            let onRoster = sent.sponsors.filter { $0.unit == unit && $0.active }
            let participating = Set(sent.accepted.filter { $0.sponsor.unit == unit }.map(\.sponsor.nip))
            let row = try #require(report.units.first { $0.name == unit })
            #expect(row.sponsors == onRoster.count)
            #expect(row.participating == participating.count)
            #expect(row.registered == sent.accepted.filter { $0.sponsor.unit == unit }.count)
            #expect(
                Report.percentText(row.participationHundredths) == Self.percent(participating.count, onRoster.count))
        }
        #expect(report.totalSponsors == sent.sponsors.filter(\.active).count)
        #expect(report.totalParticipating == Set(sent.accepted.map(\.sponsor.nip)).count)

        // Kecamatan of the work location, with names from the catalogue; every catalogue entry listed.
        #expect(report.kecamatan.map(\.code) == programme.catalogues.kecamatan.keys.sorted())
        for k in report.kecamatan {
            let here = sent.accepted.filter { Self.kecamatan(of: $0.registration) == k.code }
            #expect(k.registered == here.count, "\(k.code)")
            #expect(k.active == here.filter { paidIDs.contains($0.registration.registrationID) }.count, "\(k.code)")
            #expect(k.name == programme.catalogues.kecamatan[k.code]?.name)
        }

        #expect(report.payments == sent.paid.count)
        #expect(report.paymentsAmount == sent.paid.map(\.amount).reduce(0, +))
        let rejections = Self.rejectionCodes(h)
        #expect(report.rejected == rejections.commands)
        #expect(report.rejectionReasons == rejections.codes)
        #expect(report.rejectionReasons["inactive_sponsor"] == 1)
        #expect(report.rejectionReasons["amount_mismatch"] == 1)
        #expect(report.parked == 1)
        #expect(report.parkedReasons == ["unsupported_content_type": 1])

        // The day before, nothing had happened yet.
        let yesterday = try await onOwnThread {
            try Report.build(
                asOf: today.adding(days: -1), database: db, programme: programme,
                baselineInformalWorkers: 215_243, baselineCovered: 40_196, logger: Logger(label: "report-test"))
        }
        #expect(
            yesterday.registered == 0 && yesterday.active == 0 && yesterday.payments == 0 && yesterday.rejected == 0)
        #expect(yesterday.units.map(\.participating) == [0, 0])

        // Five months on, the one-month and three-month payments have lapsed (not paid through that
        // month); the twelve-month one is still active.
        let later = try await onOwnThread {
            try Report.build(
                asOf: today.adding(months: 5), database: db, programme: programme,
                baselineInformalWorkers: 215_243, baselineCovered: 40_196, logger: Logger(label: "report-test"))
        }
        #expect(later.registered == sent.accepted.count)
        #expect(later.active == sent.paid.filter { $0.months >= 6 }.count)

        try await Self.checkCLI(h, sent: sent, report: report, rejections: rejections.codes)
    }

    static func kecamatan(of r: SampleWorkload.Registration) -> String? {
        guard
            case .string(let code)? = r.body.objectValue?["worker"]?.objectValue?["work_location"]?.objectValue?[
                "kecamatan"]
        else { return nil }
        return code
    }

    /// `peduli-worker report --format json` (and text) from the built executable on the same database.
    static func checkCLI(_ h: PipelineHarness, sent: Sent, report: Report, rejections: [String: Int]) async throws {
        let env = ["PEDULI_DATABASE_URL": h.databaseURL]
        let today = JakartaDate(Date()).description
        let result = try await WorkerProcess.run(["report", "--format", "json", "--as-of", today], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["as_of"] as? String == today)
        #expect(json["registered"] as? Int == sent.accepted.count)
        #expect(json["active"] as? Int == Set(sent.paid.map(\.registrationID)).count)
        let coverage = try #require(json["coverage"] as? [String: Any])
        #expect(coverage["baseline_informal_workers"] as? Int == 215_243)
        #expect(coverage["baseline_covered"] as? Int == 40_196)
        // The rate is written as a decimal literal with two places.
        #expect(
            result.stdout.contains(
                "\"rate_percent\":\(percent(40_196 + Set(sent.paid.map(\.registrationID)).count, 215_243))"))
        let payments = try #require(json["payments"] as? [String: Any])
        #expect(payments["count"] as? Int == sent.paid.count)
        #expect(payments["amount"] as? Int == Int(sent.paid.map(\.amount).reduce(0, +)))
        #expect(json["rejection_reasons"] as? [String: Int] == rejections)
        #expect(json["parked_reasons"] as? [String: Int] == ["unsupported_content_type": 1])
        let participation = try #require(json["asn_participation"] as? [String: Any])
        let units = try #require(participation["units"] as? [[String: Any]])
        #expect(units.compactMap { $0["unit"] as? String } == ["Dinas A", "Dinas B"])
        #expect(units.compactMap { $0["sponsors"] as? Int } == [4, 2])
        #expect(units.compactMap { $0["participating"] as? Int } == [3, 1])
        let kecamatan = try #require(json["kecamatan"] as? [[String: Any]])
        #expect(kecamatan.count == 16)
        #expect(kecamatan.compactMap { $0["registered"] as? Int }.reduce(0, +) == sent.accepted.count)

        // Without --as-of: today in Jakarta; text output names the same figures.
        let text = try await WorkerProcess.run(["report"], environment: env)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("as of \(today)"))
        #expect(text.stdout.contains("Dinas A"))
        #expect(text.stdout.contains("\(percent(40_196 + Set(sent.paid.map(\.registrationID)).count, 215_243)) %"))

        let bad = try await WorkerProcess.run(["report", "--as-of", "2026-02-30"], environment: env)
        #expect(bad.status == 64)
    }
}
