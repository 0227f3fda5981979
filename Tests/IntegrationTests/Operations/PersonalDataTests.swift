import AMQPClient
import Foundation
import PeduliDomain
import PeduliSamples
import PeduliWorker
import Testing

/// Personal data at rest, through the real pipeline and the real executable.
@Suite(.serialized) struct PersonalDataTests {
    /// A name no roster entry and no other input has: letters only, unique per index.
    static func uniqueName(_ i: Int) -> String {
        var n = i + 26 * 26
        var token = ""
        while n > 0 {
            token.append(Character(UnicodeScalar(UInt8(97 + n % 26))))
            n /= 26
        }
        return "Tuminah R" + token
    }

    /// 120 registrations (one in three with a phone and an address of their own, a few resent, a few
    /// rejected, a few parked) and payments; then a `pg_dump` of the whole database holds none of the NIKs,
    /// phones, addresses or names that went in.
    @Test func aDumpOfTheDatabaseHoldsNoPersonalData() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(31)
        try h.roster([sponsor])
        var secrets: [String] = []
        var messages: [(String, [UInt8], AMQPProperties)] = []
        var registrations: [SampleWorkload.Registration] = []
        for i in 0..<120 {
            var r = h.samples.registration(5_000 + i, sponsor: sponsor)
            let phone = "0812" + String(format: "%08d", 40_000_000 + i)
            let address = "Gang Kenanga Blok " + Self.uniqueName(i).split(separator: " ")[1].uppercased() + " RT 3"
            r.body = r.body.setting("worker.name", to: .string(Self.uniqueName(i)))
                .setting("worker.phone", to: .string(phone))
                .setting("worker.work_location.address", to: .string(address))
            if i % 10 == 9 { r.body = r.body.setting("worker.occupation", to: "not-a-code") }  // rejected
            secrets += [r.nik, Self.uniqueName(i), phone, "62" + phone.dropFirst(), address]
            registrations.append(r)
            messages.append(
                (
                    h.pipeline.topology.registrationsRoutingKey, r.body.canonicalJSON(),
                    PipelineHarness.properties("pd-\(i)")
                ))
        }
        // A resend of one (replayed from the sealed outcome) and a parked copy that names a worker.
        messages.append(
            (
                h.pipeline.topology.registrationsRoutingKey, registrations[0].body.canonicalJSON(),
                PipelineHarness.properties("pd-again")
            ))
        var junk = registrations[1].body.canonicalJSON()
        junk.removeLast()
        messages.append((h.pipeline.topology.registrationsRoutingKey, junk, PipelineHarness.properties("pd-junk")))
        let toPublish = messages, decided = registrations
        try await h.withWorker {
            try await h.publish(toPublish)
            try await h.waitFor("every registration decided", timeout: .seconds(60)) { events, dead in
                events.filter { $0.type.hasPrefix("registration.") }.count >= 121 && dead.count >= 1
            }
            let payments = decided.enumerated().filter { $0.offset % 10 != 9 }.prefix(40).map {
                h.samples.payment(9_000 + $0.offset, for: $0.element, payer: sponsor)
            }
            for p in payments { try await h.pay(p) }
            try await h.waitFor("40 payments confirmed", timeout: .seconds(60)) { events, _ in
                events.filter { $0.type == "payment.confirmed" }.count >= 40
            }
        }
        let replay = try #require(h.capturedEvents.first { $0.json?.objectValue?["replayed"] == .bool(true) })
        #expect(replay.type == "registration.accepted")

        let dump = try Self.pgDump(h.databaseURL)
        #expect(dump.contains("COPY public.registrations"), "the dump has the tables")
        #expect(dump.contains(sponsor.nip), "the search finds what is stored in the clear (the sponsor's NIP)")
        let stored = try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n")
        let rejected = h.capturedEvents.filter { $0.type == "registration.rejected" }
        #expect(
            stored == 108,
            "\(stored) stored; rejections: \(rejected.prefix(3).map { String(decoding: $0.body, as: UTF8.self).prefix(300) })"
        )
        let found = secrets.filter { dump.contains($0) }
        #expect(
            found.isEmpty,
            "\(found.count) personal values in the dump, e.g. \(found.prefix(1).map { String($0.prefix(4)) + "…" })")
    }

    static func pgDump(_ url: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pg_dump")
        process.arguments = ["--no-owner", url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AMQPTestEnvironmentError(description: "pg_dump exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Without a key file, or with one that is not a key file, the commands that touch personal data refuse to
    /// start (78), naming the setting and the file, never a key.
    @Test(arguments: ["run", "migrate", "reminders"])
    func commandsRefuseToStartWithoutTheirKeys(command: String) async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let args = command == "reminders" ? ["reminders", "run", "--as-of", "2026-12-01"] : [command]
        let env = [
            "PEDULI_DATABASE_URL": h.databaseURL,
            "PEDULI_AMQP_URL": ProcessInfo.processInfo.environment["PEDULI_TEST_AMQP_URL"] ?? "",
        ]
        var missing = env
        missing["PEDULI_SECURITY_DATA_KEYS_FILE"] = ""
        let none = try WorkerProcess(args, environment: missing)
        #expect(try await none.wait(timeout: .seconds(30)) == 78)
        #expect(none.stderr.contains("security.data_keys_file"), "\(none.stderr)")

        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("peduli-bad-keys-\(UUID().uuidString)")
        try Data("1 c2hvcnQ=\n".utf8).write(to: bad)
        var wrong = env
        wrong["PEDULI_SECURITY_DATA_KEYS_FILE"] = bad.path
        let broken = try WorkerProcess(args, environment: wrong)
        #expect(try await broken.wait(timeout: .seconds(30)) == 78)
        #expect(broken.stderr.contains(bad.path) && broken.stderr.contains("not 32 bytes"), "\(broken.stderr)")
        #expect(!broken.stderr.contains("c2hvcnQ="))
    }
}
