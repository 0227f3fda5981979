import Foundation
import PeduliWorker

/// The real `peduli-worker run` executable as a child process, configured for a harness's database and
/// prefixed topology, so tests can kill it the way a crash or an operator would.
final class WorkerProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is only touched by the test that owns this value, one call at a time.
    let process = Process()
    let logURL: URL

    static var binary: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/peduli-worker")
    }

    static func environment(for h: PipelineHarness, extra: [String: String] = [:]) -> [String: String] {
        let env = ProcessInfo.processInfo.environment
        let t = h.pipeline.topology
        var e: [String: String] = [
            "PATH": env["PATH"] ?? "/usr/bin:/bin",
            "PEDULI_AMQP_URL": env["PEDULI_TEST_AMQP_URL"] ?? "",
            "PEDULI_DATABASE_URL": h.databaseURL,
            "PEDULI_METRICS_LISTEN": "",
            "PEDULI_TOPOLOGY_INBOUND_EXCHANGE": t.inboundExchange,
            "PEDULI_TOPOLOGY_REGISTRATIONS_QUEUE": t.registrationsQueue,
            "PEDULI_TOPOLOGY_PAYMENTS_QUEUE": t.paymentsQueue,
            "PEDULI_TOPOLOGY_EVENTS_EXCHANGE": t.eventsExchange,
            "PEDULI_TOPOLOGY_DEAD_EXCHANGE": t.deadExchange,
            "PEDULI_TOPOLOGY_DEAD_QUEUE": t.deadLettersQueue,
            "PEDULI_TOPOLOGY_RETRY_QUEUE_PREFIX": t.retryQueuePrefix,
            "PEDULI_TOPOLOGY_RETRY_DELAYS": "1s,2s",
            "PEDULI_SCHEDULER_INTERVAL_SECONDS": "3600",
            "PEDULI_WORKER_DRAIN_SECONDS": "10",
        ]
        for (k, v) in extra { e[k] = v }
        return e
    }

    init(_ h: PipelineHarness, extra: [String: String] = [:], name: String = "worker") throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(h.prefix)-\(name)-\(UUID().uuidString.prefix(6)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = Self.binary
        process.arguments = ["run"]
        process.environment = Self.environment(for: h, extra: extra)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func kill(_ signal: Int32) { _ = Foundation.kill(pid, signal) }

    /// Waits for the process to end (up to `timeout`) and returns its exit status, nil if still running.
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
}
