import Foundation
import PeduliTestSupport
import Testing

/// Start-up and stop of the real executable: a stop signal is never fatal once `main` runs, a stop during
/// start-up ends it at once, and liveness keeps being reported while the broker is away.
@Suite(.serialized) struct StartStopTests {
    /// True once the process's main thread blocks SIGTERM, the first thing `main` does.
    static func blocksSIGTERM(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
            let mask = UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << (UInt64(SIGTERM) - 1)) != 0
    }

    /// SIGTERM the moment `main` has run (threads starting, nothing installed yet): it used to kill the process.
    @Test func aStopSignalInTheFirstMillisecondsIsAGracefulStop() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        for _ in 0..<3 {
            let worker = try WorkerProcess.daemon(h)
            let deadline = ContinuousClock.now + .seconds(10)
            while !Self.blocksSIGTERM(worker.process.processIdentifier) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .microseconds(200))
            }
            worker.signal(SIGTERM)
            #expect(try await worker.wait(timeout: .seconds(30)) == 0, "stderr: \(worker.stderr)")
        }
    }

    /// With the broker unreachable, start-up waits (up to worker.startup_wait_seconds); a stop then ends it
    /// within a second, exit 0 (nothing was consumed, nothing is left undone). Before: the whole wait, 16 s.
    @Test func aStopDuringStartUpEndsItPromptly() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let worker = try WorkerProcess.daemon(
            h,
            extra: [
                "PEDULI_AMQP_URL": "amqp://nobody:x@127.0.0.1:1/", "PEDULI_WORKER_STARTUP_WAIT_SECONDS": "60",
            ])
        let deadline = ContinuousClock.now + .seconds(30)
        while !worker.stderr.contains("waiting for RabbitMQ") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(worker.stderr.contains("waiting for RabbitMQ"))
        let stop = ContinuousClock.now
        worker.signal(SIGTERM)
        #expect(try await worker.wait(timeout: .seconds(20)) == 0)
        #expect(ContinuousClock.now - stop < .seconds(2), "stop took \(ContinuousClock.now - stop)")
        #expect(worker.stderr.contains("stop requested during start-up"))
    }

    /// The watchdog keeps being pinged while the broker is down (every reconnect loop reports liveness); before,
    /// an outage as long as WatchdogSec got the worker killed.
    @Test func theWatchdogIsPingedDuringABrokerOutage() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let socket = try NotifySocketStub(abstract: false)
        let worker = try WorkerProcess.daemon(h, extra: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "2000000"])
        var received: [String] = []
        let ready = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < ready, !received.contains(where: { $0.contains("READY=1") }) {
            if let datagram = socket.receive() { received.append(datagram) }
        }
        #expect(received.contains { $0.contains("READY=1") })
        _ = try AMQPTestEnvironment.services(["stop-rabbitmq"])
        let outageStart = ContinuousClock.now
        var pingsDuringOutage = 0
        while ContinuousClock.now - outageStart < .seconds(6) {
            if let datagram = socket.receive(), datagram.contains("WATCHDOG=1") { pingsDuringOutage += 1 }
        }
        _ = try AMQPTestEnvironment.services(["start-rabbitmq"])
        while socket.receive() != nil {}
        // A 2 s watchdog is pinged every second while the loops report; 6 s of outage is 3 intervals.
        #expect(pingsDuringOutage >= 4, "pings during the outage: \(pingsDuringOutage)")
        #expect(!worker.stderr.contains("watchdog withheld"))
        // The stub stops reading now: a full notify socket must not hold up the stop (MSG_DONTWAIT).
        worker.signal(SIGTERM)
        #expect(try await worker.wait(timeout: .seconds(40)) == 0)
    }
}
