import Foundation
import Logging
import PeduliDomain
import PeduliPrivacy
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import Testing

/// A data subject's rights end to end: what `subject show` prints, an erasure that leaves the report's totals
/// as they were and lets the NIK register again, key rotation, and an audit trail the database keeps
/// append-only.
@Suite(.serialized) struct SubjectRightsTests {
    static func report(_ h: PipelineHarness) async throws -> Report {
        let database = h.database, programme = h.programme
        return try await onOwnThread {
            try Report.build(
                asOf: JakartaDate(Date()), database: database, programme: programme, baselineInformalWorkers: 215_243,
                baselineCovered: 40_196, logger: Logger(label: "subject-test"))
        }
    }

    @Test func showEraseRegisterAgainAndTheTrail() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(41)
        try h.roster([sponsor])
        let workers = (0..<3).map { h.samples.registration(7_100 + $0, sponsor: sponsor) }
        let subject = workers[1]
        try await h.withWorker {
            for w in workers { try await h.register(w) }
            try await h.waitFor("3 accepted") { e, _ in e.filter { $0.type == "registration.accepted" }.count >= 3 }
            try await h.pay(h.samples.payment(7_200, for: subject, payer: sponsor))
            try await h.waitFor("the payment") { e, _ in e.contains { $0.type == "payment.confirmed" } }
        }
        let env = ["PEDULI_DATABASE_URL": h.databaseURL]
        guard case .string(let name)? = subject.body.objectValue?["worker"]?.objectValue?["name"] else {
            Issue.record("the sample has no name")
            return
        }

        let show = try WorkerProcess(["subject", "show", subject.nik, "--operator", "petugas-1"], environment: env)
        #expect(try await show.wait() == 0, "\(show.stderr)")
        #expect(show.stdout.contains(subject.nik) && show.stdout.contains(name), "\(show.stdout)")
        #expect(show.stdout.contains("registration accepted") || show.stdout.contains(" accepted "), "\(show.stdout)")
        #expect(show.stdout.contains("payment") && show.stdout.contains("confirmed"), "\(show.stdout)")

        let before = try await Self.report(h)
        let erase = try WorkerProcess(
            ["subject", "erase", subject.nik, "--reason", "permintaan subjek data", "--operator", "petugas-1"],
            environment: env)
        #expect(try await erase.wait() == 0, "\(erase.stderr)")
        #expect(erase.stdout.contains("1 registration"))
        let after = try await Self.report(h)
        #expect(after == before, "the report's totals do not change")
        let shown = try WorkerProcess(["subject", "show", subject.nik], environment: env)
        #expect(try await shown.wait() == 0)
        #expect(!shown.stdout.contains(name) && shown.stdout.contains("(erased)"), "\(shown.stdout)")

        // The same NIK registers again under a new registration id.
        var resent = subject
        resent.body = subject.body.setting("registration_id", to: .string(UUID().uuidString.lowercased()))
        let again = resent
        try await h.withWorker {
            try await h.register(again)
            try await h.waitFor("the new registration") { e, _ in
                e.filter { $0.type == "registration.accepted" }.count >= 4
            }
        }

        let trail = try h.sql("SELECT operator, action, subject_hash FROM personal_data_audit ORDER BY id")
        #expect(try trail.map { try $0.string("action") } == ["subject_show", "subject_erase", "subject_show"])
        #expect(try trail[0].string("operator") == "petugas-1")
        #expect(try trail[1].bytes("subject_hash") == h.pipeline.dataKeys!.nikHash(subject.nik))
        #expect(throws: PostgresError.self) { try h.sql("UPDATE personal_data_audit SET operator = 'x'") }
        #expect(throws: PostgresError.self) { try h.sql("DELETE FROM personal_data_audit") }
        #expect(try h.sql("SELECT count(*) AS n FROM personal_data_audit")[0].int("n") == 3)
    }

    /// A second key appended: `keys rotate` re-encrypts everything under it, and the data still reads.
    @Test func rotationMovesEveryValueToTheNewKey() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(42)
        try h.roster([sponsor])
        let workers = (0..<30).map { h.samples.registration(7_300 + $0, sponsor: sponsor) }
        try await h.withWorker {
            for w in workers { try await h.register(w) }
            try await h.waitFor("30 accepted") { e, _ in e.filter { $0.type == "registration.accepted" }.count >= 30 }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("peduli-rotate-\(UUID().uuidString)")
        let two = DataKeys.generateLine(after: h.pipeline.dataKeys)
        try Data((TestDataKeys.line + "\n" + two + "\n").utf8).write(to: file)
        let env = ["PEDULI_DATABASE_URL": h.databaseURL, "PEDULI_SECURITY_DATA_KEYS_FILE": file.path]
        let rotate = try WorkerProcess(["keys", "rotate"], environment: env)
        #expect(try await rotate.wait() == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.contains("under key 2; 0 left"), "\(rotate.stdout)")
        let ids = try h.sql("SELECT DISTINCT get_byte(name_sealed, 4) AS k FROM registrations")
        #expect(try ids.map { try $0.int("k") } == [2])
        let show = try WorkerProcess(["subject", "show", workers[3].nik], environment: env)
        #expect(try await show.wait() == 0)
        #expect(show.stdout.contains(workers[3].nik))
        let again = try WorkerProcess(["keys", "rotate"], environment: env)
        #expect(try await again.wait() == 0)
        #expect(again.stdout.contains("re-encrypted 0 row(s) under key 2; 0 left"), "\(again.stdout)")
    }
}
