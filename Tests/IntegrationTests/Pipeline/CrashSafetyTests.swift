import AMQPClient
import Foundation
import PeduliSamples
import PeduliWorker
import Testing

/// The real executable killed with SIGKILL at random moments while 20,000 commands flow, restarted each
/// time: afterwards every command has exactly one outcome, nothing is done twice, and every outcome's event
/// was published.
@Suite(.serialized) struct CrashSafetyTests {
    @Test func sigkillFiveTimesLosesAndDuplicatesNothing() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsors = (0..<50).map { h.samples.sponsor($0) }
        try h.roster(sponsors)
        let registrations = 14_000
        let payments = 6_000
        var messages: [(String, [UInt8], AMQPProperties)] = []
        var regs: [SampleWorkload.Registration] = []
        for i in 0..<registrations {
            let r = h.samples.registration(i, sponsor: sponsors[i % 50])
            regs.append(r)
            var body = r.body
            if i % 20 == 7 { body = body.setting("worker.occupation", to: "P084") }  // ineligible_occupation
            messages.append(("registration.submit", body.canonicalJSON(), PipelineHarness.properties("r\(i)")))
        }
        for i in 0..<payments {
            let index = (i * 2) % registrations
            let p = h.samples.payment(i, for: regs[index], payer: sponsors[i % 50], months: [1, 3, 6, 12][i % 4])
            messages.append(("payment.submit", p.body.canonicalJSON(), PipelineHarness.properties("p\(i)")))
        }
        let total = messages.count
        try await h.publish(messages)
        _ = try await h.waitFor("capture running", timeout: .seconds(5)) { _, _ in true }

        var kills = 0
        var worker = try WorkerProcess.daemon(h)
        for _ in 1...5 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 400...2500)))
            worker.signal(SIGKILL)
            while worker.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            kills += 1
            worker = try WorkerProcess.daemon(h)
        }
        // Let the last one finish the work, then stop it properly.
        let finished = try await h.waitFor("an outcome event for every command", timeout: .seconds(300)) { e, _ in
            Set(e.compactMap(\.properties.correlationId)).count >= total
        }
        // The events may all have come from earlier runs: stop this one only once it consumes.
        try await worker.waitUntilConsuming()
        worker.signal(SIGTERM)
        let status = try await worker.wait(timeout: .seconds(30))
        #expect(status == 0, "graceful stop exit status")
        #expect(kills == 5)

        // Exactly one final outcome per command.
        let outcomes = try h.sql(
            """
            SELECT count(*) AS rows, count(DISTINCT message_id) AS ids FROM processing_log WHERE outcome <> 'retry_scheduled'
            """)[0]
        #expect(try outcomes.int("rows") == total)
        #expect(try outcomes.int("ids") == total)
        // No duplicate effects.
        let accepted = try h.sql("SELECT count(*) AS n FROM processing_log WHERE outcome = 'accepted'")[0].int("n")
        let confirmed = try h.sql("SELECT count(*) AS n FROM processing_log WHERE outcome = 'confirmed'")[0].int("n")
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == accepted)
        #expect(try h.sql("SELECT count(*) AS n FROM payments")[0].int("n") == confirmed)
        #expect(accepted == registrations - registrations / 20)
        // Every outcome's event was received at least once.
        let received = Set(finished.events.compactMap(\.properties.correlationId))
        #expect(received.count == total)
        #expect(try h.sql("SELECT count(*) AS n FROM outbox")[0].int("n") == 0)
        #expect(h.capturedDeadLetters.isEmpty)
        print(
            "crash test: commands=\(total) kills=\(kills) accepted=\(accepted) confirmed=\(confirmed) events=\(finished.events.count) distinct=\(received.count)"
        )
    }
}
