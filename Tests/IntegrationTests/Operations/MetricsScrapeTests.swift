import AMQPClient
import Foundation
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import Testing

/// The real executable's `/metrics`, scraped live and checked by `promtool check metrics` (Debian's
/// `prometheus` package; `scripts/check-monitoring` and `scripts/test` install it): HELP and TYPE on every
/// metric, every known series at 0 from start-up, parked copies counted apart from events.
@Suite(.serialized) struct MetricsScrapeTests {
    static func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        promtool.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        promtool.standardInput = input
        promtool.standardOutput = output
        promtool.standardError = output
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") else {
            throw ChildProcessError(
                description: "promtool missing: apt-get install prometheus (scripts/check-monitoring)")
        }
        try promtool.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        promtool.waitUntilExit()
        return (promtool.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test func liveScrapeIsPromtoolCleanWithEverySeriesFromStartUp() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let port = 20_000 + Int.random(in: 0..<20_000)
        let worker = try WorkerProcess.daemon(
            h, extra: ["PEDULI_METRICS_LISTEN": "127.0.0.1:\(port)", "PEDULI_WORKER_BATCH_SIZE": "50"])
        var first = "", second = ""
        do {
            try await worker.waitUntilConsuming()
            first = try await LogScanTests.fetch("http://127.0.0.1:\(port)/metrics")
            let t = h.pipeline.topology
            try await h.publish([
                (
                    t.registrationsRoutingKey, h.samples.registration(1, sponsor: sponsor).body.canonicalJSON(),
                    PipelineHarness.properties()
                ),
                (t.registrationsRoutingKey, Array("{junk".utf8), PipelineHarness.properties()),
            ])
            try await h.waitFor("an event and a parked copy") { e, d in e.count == 1 && d.count == 1 }
            // The relay counts after its deletion; give it a moment past the capture.
            let deadline = ContinuousClock.now + .seconds(20)
            repeat {
                try await Task.sleep(for: .milliseconds(200))
                second = try await LogScanTests.fetch("http://127.0.0.1:\(port)/metrics")
            } while Self.value(second, #"peduli_outbox_published_total{kind="parked"}"#) != 1
                && ContinuousClock.now < deadline
        } catch {
            worker.process.terminate()
            _ = try? await worker.wait(timeout: .seconds(30))
            Issue.record("worker stderr:\n\(worker.stderr)")
            throw error
        }
        worker.process.terminate()
        #expect(try await worker.wait(timeout: .seconds(40)) == 0)

        for scrape in [first, second] {
            let check = try Self.promtoolCheck(scrape)
            #expect(check.status == 0 && check.output.isEmpty, "promtool check metrics:\n\(check.output)")
        }
        // Start-up: every definition with HELP, labelled counters at 0, batch buckets up to the configured 50.
        var pipeline = PipelineConfiguration()
        pipeline.batchSize = 50
        for definition in PipelineMetrics.definitions(pipeline: pipeline) {
            #expect(first.contains("# HELP \(definition.name) "), "\(definition.name)")
        }
        for series in [
            #"peduli_outcomes_total{command="registration",outcome="accepted",reason="none"}"#,
            #"peduli_outcomes_total{command="payment",outcome="parked",reason="malformed_json"}"#,
            #"peduli_dead_letters_total{reason="malformed_json"}"#, #"peduli_outbox_published_total{kind="event"}"#,
            #"peduli_reconnects_total{dependency="amqp",loop="consumer"}"#, "peduli_events_published_total",
        ] {
            #expect(Self.value(first, series) == 0, "\(series)")
        }
        #expect(first.contains(#"peduli_batch_size_bucket{le="50.0"}"#))
        #expect(!first.contains(#"peduli_batch_size_bucket{le="100.0"}"#))
        #expect(first.contains(#"peduli_outbox_confirm_seconds_bucket{le="0.00025"}"#))
        #expect(Self.value(first, "peduli_liveness_window_seconds") == 30)
        // After one event and one parked copy: each counted as what it is.
        #expect(Self.value(second, #"peduli_outbox_published_total{kind="event"}"#) == 1)
        #expect(Self.value(second, #"peduli_outbox_published_total{kind="parked"}"#) == 1)
        #expect(Self.value(second, "peduli_events_published_total") == 1)
        #expect(Self.value(second, #"peduli_dead_letters_total{reason="malformed_json"}"#) == 1)
        #expect(
            Self.value(second, #"peduli_outcomes_total{command="registration",outcome="accepted",reason="none"}"#) == 1)
    }
}
