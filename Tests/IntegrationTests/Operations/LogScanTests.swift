import Foundation
import PeduliDomain
import PeduliSamples
import PeduliWorker
import Testing

/// The personal-data rule checked on the real daemon: `peduli-worker run` (the built executable) at debug
/// level handles valid and invalid registrations and payments, is stopped with SIGTERM, and neither its
/// whole log nor its /metrics text contains a full NIK, a phone number (as sent or as stored) or an address.
@Suite(.serialized) struct LogScanTests {
    @Test func daemonLogAndMetricsCarryNoPersonalData() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(31)
        try h.roster([sponsor])

        var secrets: [String] = []
        var bodies: [JSONValue] = []
        var accepted: [SampleWorkload.Registration] = []
        for i in 0..<4 {
            var r = h.samples.registration(300 + i, sponsor: sponsor)
            let local = "0812" + String(format: "%07d", 3_141_590 + i)  // 08123141590 style, 11 digits
            let address = "Jl. Kenanga Rahasia \(70 + i) RT 03 RW 11"
            r.body = r.body.setting("worker.phone", to: .string(local))
                .setting("worker.work_location.address", to: .string(address))
            accepted.append(r)
            bodies.append(r.body)
            secrets += [r.nik, local, "+62" + local.dropFirst(), "62" + local.dropFirst(), address]
        }
        // Invalid ones: a phone that is too long, a NIK that is not one (its 15 digits must not show
        // either), a bad gender with a valid NIK, and a JSON body that is not an object (parked as such).
        let badPhone = "0812" + "55501234567"
        let badNIK = String(h.samples.registration(310, sponsor: sponsor).nik.dropLast())
        let invalid = [
            h.samples.registration(311, sponsor: sponsor).body.setting("worker.phone", to: .string(badPhone)),
            h.samples.registration(312, sponsor: sponsor).body.setting("worker.nik", to: .string(badNIK)),
            h.samples.registration(313, sponsor: sponsor).body.setting("worker.gender", to: "X")
                .setting("worker.work_location.address", to: .string("Gang Mawar Tersembunyi 9")),
        ]
        secrets += [badPhone, badNIK, "Gang Mawar Tersembunyi 9"]
        for body in invalid {
            if case .string(let nik)? = body.objectValue?["worker"]?.objectValue?["nik"] { secrets.append(nik) }
            if case .string(let phone)? = body.objectValue?["worker"]?.objectValue?["phone"] { secrets.append(phone) }
        }
        let notAnObject = Array("[\"\(accepted[0].nik)\", \"Jl. Kenanga Rahasia 70 RT 03 RW 11\"]".utf8)
        let payments = [
            h.samples.payment(1, for: accepted[0], payer: sponsor, months: 3),
            h.samples.payment(2, for: accepted[1], payer: sponsor, months: 1),
        ]
        var wrong = h.samples.payment(3, for: accepted[2], payer: sponsor, months: 2)
        wrong.body = wrong.body.setting("amount", to: .int(1))

        let metricsPort = 20_000 + Int.random(in: 0..<20_000)
        let t = h.pipeline.topology
        let worker = try WorkerProcess.daemon(
            h, extra: ["PEDULI_WORKER_LOG_LEVEL": "debug", "PEDULI_METRICS_LISTEN": "127.0.0.1:\(metricsPort)"])
        var metrics = ""
        do {
            for body in bodies + invalid {
                try await h.publish([(t.registrationsRoutingKey, body.canonicalJSON(), PipelineHarness.properties())])
            }
            try await h.publish([(t.registrationsRoutingKey, notAnObject, PipelineHarness.properties())])
            try await h.waitFor("registration outcomes", timeout: .seconds(60)) { e, d in
                e.filter { $0.type == "registration.accepted" }.count == 4
                    && e.filter { $0.type == "registration.rejected" }.count == 3 && d.count == 1
            }
            for p in payments + [wrong] { try await h.pay(p) }
            try await h.waitFor("payment outcomes", timeout: .seconds(60)) { e, _ in
                e.filter { $0.type == "payment.confirmed" }.count == 2
                    && e.filter { $0.type == "payment.rejected" }.count == 1
            }
            metrics = try await Self.fetch("http://127.0.0.1:\(metricsPort)/metrics")
        } catch {
            worker.process.terminate()
            _ = try? await worker.wait(timeout: .seconds(30))
            Issue.record("worker stderr:\n\(worker.stderr)")
            throw error
        }
        worker.process.terminate()  // SIGTERM
        let status = try await worker.wait(timeout: .seconds(40))
        let log = worker.stderr + worker.stdout
        #expect(status == 0, "exit status \(status); log:\n\(log.suffix(4000))")

        // The scan must have something to scan: the whole run at debug level, start to graceful stop.
        #expect(log.contains("level=debug"), "no debug lines in the log")
        #expect(log.contains("peduli-worker is consuming") && log.contains("peduli-worker stopped"), "log:\n\(log)")
        // Secrets follow the same rule: the passwords of both URLs never appear.
        for name in ["PEDULI_TEST_AMQP_URL", "PEDULI_TEST_DATABASE_URL"] {
            if let password = ProcessInfo.processInfo.environment[name].flatMap({ URLComponents(string: $0)?.password }
            ),
                password.count >= 4
            {
                secrets.append(password)
            }
        }
        #expect(metrics.contains("# TYPE"), "metrics:\n\(metrics.prefix(2000))")
        for secret in Set(secrets) {
            #expect(
                !log.contains(secret),
                "personal data in the log: \(secret.count) characters starting \(secret.prefix(4))")
            #expect(!metrics.contains(secret), "personal data in /metrics: starting \(secret.prefix(4))")
        }
        // Masked forms are what may appear; make sure the scan would have seen a NIK had it been there.
        #expect(!secrets.filter { $0.count == 16 }.isEmpty)
    }

    /// GET with curl (the test target does not link FoundationNetworking).
    static func fetch(_ url: String) async throws -> String {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sS", "--max-time", "10", url]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        guard curl.terminationStatus == 0 else { throw ChildProcessError(description: "curl \(url) failed") }
        return String(decoding: data, as: UTF8.self)
    }
}
