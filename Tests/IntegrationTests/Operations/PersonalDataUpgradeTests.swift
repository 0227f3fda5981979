import AMQPClient
import Foundation
import PeduliDomain
import PeduliPrivacy
import PeduliSamples
import PeduliTestSupport
import PostgresClient
import Testing

@testable import PeduliWorker

/// An earlier release's database with plain personal data, upgraded by the new worker while commands keep
/// coming; and a key rotation while the worker consumes, killed half-way and resumed.
@Suite(.serialized) struct PersonalDataUpgradeTests {
    static func string(_ body: JSONValue, _ path: String) -> String? {
        var value: JSONValue? = body
        for part in path.split(separator: ".") { value = value?.objectValue?[String(part)] }
        if case .string(let s)? = value { return s }
        return nil
    }

    /// Writes registrations as release 6 stored them: every personal field in plain text.
    static func insertPlain(_ rows: [SampleWorkload.Registration], sponsor: String, into h: PipelineHarness) throws {
        func column(_ path: String) -> String { PostgresArray.text(rows.map { string($0.body, path) }) }
        _ = try h.sql(
            """
            INSERT INTO registrations (registration_id, submitted_at, accepted_at, sponsor_nip, nik, worker_name,
                birth_date, gender, phone, occupation, work_status, kecamatan, kelurahan, address, source,
                monthly_contribution, first_due_date)
            SELECT id, now() - interval '2 days', now() - interval '2 days', $2, n, nm, b, g, ph, o, w, k, kl, a, s,
                16800, current_date + 14
            FROM unnest($1::uuid[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[],
                $9::text[], $10::text[], $11::text[], $12::text[], $13::text[]) AS u(id, n, nm, b, g, ph, o, w, k, kl, a, s)
            """,
            [
                PostgresArray.text(rows.map { $0.registrationID.canonicalString }), sponsor,
                PostgresArray.text(rows.map(\.nik)), column("worker.name"),
                PostgresArray.text(rows.map { $0.birthDate.description }), column("worker.gender"),
                PostgresArray.text(rows.map { "+62" + (string($0.body, "worker.phone") ?? "0").dropFirst() }),
                column("worker.occupation"), column("worker.work_status"), column("worker.work_location.kecamatan"),
                column("worker.work_location.kelurahan"), column("worker.work_location.address"), column("source"),
            ])
    }

    @Test func anEarlierReleasesDatabaseIsSealedWhileCommandsKeepComing() async throws {
        let h = try PipelineHarness(migrateThrough: 6)
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(51)
        try h.roster([sponsor])
        let plain = (0..<3_000).map { h.samples.registration(30_000 + $0, sponsor: sponsor) }
        try Self.insertPlain(plain, sponsor: sponsor.nip, into: h)
        let covered = h.samples.registration(39_999, sponsor: sponsor)
        _ = try h.sql("INSERT INTO covered_niks (nik, scheme) VALUES ($1, 'PIJAR SEMAR')", [covered.nik])

        // Waiting before the new worker starts: new registrations, one NIK of the plain rows again, the covered
        // NIK, and payments for plain rows (their birth dates are read back sealed).
        let fresh = (0..<400).map { h.samples.registration(40_000 + $0, sponsor: sponsor) }
        var again = plain[5]
        again.body = again.body.setting("registration_id", to: .string(UUID().uuidString.lowercased()))
        let payments = (0..<50).map { h.samples.payment(50_000 + $0, for: plain[100 + $0], payer: sponsor) }
        var first: [(String, [UInt8], AMQPProperties)] = fresh.prefix(200).enumerated().map {
            ("registration.submit", $0.element.body.canonicalJSON(), PipelineHarness.properties("up-r\($0.offset)"))
        }
        first.append(("registration.submit", again.body.canonicalJSON(), PipelineHarness.properties("up-again")))
        first.append(("registration.submit", covered.body.canonicalJSON(), PipelineHarness.properties("up-covered")))
        first += payments.enumerated().map {
            ("payment.submit", $0.element.body.canonicalJSON(), PipelineHarness.properties("up-p\($0.offset)"))
        }
        try await h.publish(first)
        let later: [(String, [UInt8], AMQPProperties)] = fresh.suffix(200).enumerated().map {
            ("registration.submit", $0.element.body.canonicalJSON(), PipelineHarness.properties("up-l\($0.offset)"))
        }
        let total = first.count + later.count
        try await h.withWorker {
            try await h.publish(later)  // while the worker migrates and starts consuming
            try await h.waitFor("every command decided", timeout: .seconds(120)) { events, _ in
                events.count >= total
            }
        }
        let events = h.capturedEvents
        #expect(events.filter { $0.type == "registration.accepted" }.count == 400)
        #expect(events.filter { $0.type == "payment.confirmed" }.count == 50)
        let rejected = events.filter { $0.type == "registration.rejected" }
        var codes: [String] = []
        for event in rejected {
            guard case .array(let errors)? = event.json?.objectValue?["errors"] else { continue }
            for error in errors {
                if case .string(let code)? = error.objectValue?["code"] { codes.append(code) }
            }
        }
        #expect(Set(codes) == ["already_registered", "covered_by_other_scheme"], "\(codes)")
        // Each message decided once; every row sealed, no plain column left.
        #expect(try h.sql("SELECT count(*) AS n FROM processing_log")[0].int("n") == total)
        #expect(Set(events.compactMap(\.properties.correlationId)).count == total)
        #expect(try h.sql("SELECT count(*) AS n FROM registrations WHERE nik_hash IS NULL")[0].int("n") == 0)
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 3_400)
        let plainColumns = try h.sql(
            """
            SELECT count(*) AS n FROM information_schema.columns
            WHERE table_name IN ('registrations', 'covered_niks') AND column_name IN ('nik', 'worker_name', 'phone')
                AND table_schema = current_schema()
            """)
        #expect(try plainColumns[0].int("n") == 0)
    }

    @Test func rotationWhileTheWorkerConsumesKilledAndResumed() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(52)
        try h.roster([sponsor])
        let before = (0..<600).map { h.samples.registration(60_000 + $0, sponsor: sponsor) }
        try await h.withWorker {
            try await h.publish(
                before.enumerated().map {
                    (
                        "registration.submit", $0.element.body.canonicalJSON(),
                        PipelineHarness.properties("rot-\($0.offset)")
                    )
                })
            try await h.waitFor("600 accepted", timeout: .seconds(60)) { e, _ in e.count >= 600 }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("peduli-rot2-\(UUID().uuidString)")
        let lines = TestDataKeys.line + "\n" + DataKeys.generateLine(after: TestDataKeys.keys) + "\n"
        try Data(lines.utf8).write(to: file)
        h.pipeline.dataKeys = try DataKeys.parse(lines, file: file.path)
        let env = ["PEDULI_DATABASE_URL": h.databaseURL, "PEDULI_SECURITY_DATA_KEYS_FILE": file.path]
        let payments = (0..<200).map { h.samples.payment(61_000 + $0, for: before[$0], payer: sponsor) }
        let after = (0..<200).map { h.samples.registration(62_000 + $0, sponsor: sponsor) }
        var messages = payments.enumerated().map {
            ("payment.submit", $0.element.body.canonicalJSON(), PipelineHarness.properties("rot-p\($0.offset)"))
        }
        messages += after.enumerated().map {
            ("registration.submit", $0.element.body.canonicalJSON(), PipelineHarness.properties("rot-a\($0.offset)"))
        }
        let batch = messages
        try await h.withWorker {
            try await h.publish(batch)
            let killed = try WorkerProcess(["keys", "rotate", "--operator", "test"], environment: env)
            try await Task.sleep(for: .milliseconds(150))
            kill(killed.process.processIdentifier, SIGKILL)
            while killed.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            let resumed = try WorkerProcess(["keys", "rotate", "--operator", "test"], environment: env)
            #expect(try await resumed.wait(timeout: .seconds(60)) == 0, "\(resumed.stderr)")
            try await h.waitFor("payments and new registrations", timeout: .seconds(60)) { e, _ in e.count >= 1_000 }
        }
        let check = try WorkerProcess(["keys", "rotate"], environment: env)
        #expect(try await check.wait() == 0)
        #expect(check.stdout.contains("; 0 left"), "\(check.stdout)")
        #expect(h.capturedEvents.filter { $0.type == "payment.confirmed" }.count == 200)
        #expect(h.capturedEvents.filter { $0.type == "registration.accepted" }.count == 800)
        #expect(try h.sql("SELECT count(*) AS n FROM processing_log")[0].int("n") == 1_000)
        let keyIDs = try h.sql(
            "SELECT DISTINCT get_byte(nik_sealed, 4) AS k FROM registrations UNION SELECT DISTINCT get_byte(event_body_sealed, 4) FROM command_outcomes"
        )
        #expect(try keyIDs.map { try $0.int("k") } == [2])
    }
}
