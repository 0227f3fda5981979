import Foundation
import Testing

/// Runs the built `peduli-worker` executable as operations would, with an environment of our choosing and
/// its output in files (so a long-running daemon never blocks on a full pipe).
final class WorkerProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is started once in init and afterwards only read or signalled, which
    // Foundation's Process allows from any thread.
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    /// The executable `swift build` produced: `<repo>/.build/debug/peduli-worker`, found from this file's path.
    static func executable(filePath: String = #filePath) throws -> URL {
        var root = URL(fileURLWithPath: filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }  // Support, IntegrationTests, Tests, file
        let url = root.appendingPathComponent(".build/debug/peduli-worker")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw ChildProcessError(description: "\(url.path) is missing: run `swift build --build-tests` first")
        }
        return url
    }

    /// The environment of this test process without any PEDULI_* variable (so that nothing of the developer's
    /// configuration leaks in), plus `extra`.
    /// The data keys are the tests' own (`TestDataKeys`, the same the in-process harness uses) unless `extra`
    /// sets `PEDULI_SECURITY_DATA_KEYS_FILE` itself (empty: none).
    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PEDULI_") }
        env["PEDULI_SECURITY_DATA_KEYS_FILE"] = TestDataKeys.file
        for (key, value) in extra { env[key] = value }
        return env
    }

    init(_ arguments: [String], environment: [String: String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peduli-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stdoutURL = dir.appendingPathComponent("stdout")
        stderrURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = try Self.executable()
        process.arguments = arguments
        process.environment = Self.environment(environment)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    /// A test that fails half-way must not leave a daemon behind: whatever still runs is killed.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit and returns its status, or fails after `timeout` (killing it).
    func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                throw ChildProcessError(
                    description:
                        "peduli-worker \(process.arguments ?? []) did not exit within \(timeout); stderr:\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(process.terminationReason == .exit, "peduli-worker ended by a signal")
        return process.terminationStatus
    }

    /// Runs a one-shot command to completion.
    static func run(
        _ arguments: [String], environment: [String: String], timeout: Duration = .seconds(60)
    )
        async throws -> (status: Int32, stdout: String, stderr: String)
    {
        let child = try WorkerProcess(arguments, environment: environment)
        let status = try await child.wait(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }
}

struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
}

extension WorkerProcess {
    /// `peduli-worker run` configured for a harness: its database, its prefixed topology, short retries, no
    /// metrics endpoint unless `extra` sets one.
    static func daemon(_ h: PipelineHarness, extra: [String: String] = [:]) throws -> WorkerProcess {
        let t = h.pipeline.topology
        var env: [String: String] = [
            "PEDULI_AMQP_URL": ProcessInfo.processInfo.environment["PEDULI_TEST_AMQP_URL"] ?? "",
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
        for (key, value) in extra { env[key] = value }
        return try WorkerProcess(["run"], environment: env)
    }

    func signal(_ number: Int32) { _ = kill(process.processIdentifier, number) }

    /// Waits until the daemon logs that it consumes (so a stop tests the drain, not the start-up).
    func waitUntilConsuming(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !stderr.contains("peduli-worker is consuming") {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw ChildProcessError(description: "peduli-worker did not start consuming; stderr:\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
