import Foundation
import PeduliTestSupport
import Testing

/// The real daemon under a stand-in for systemd: it must say READY=1 only once it consumes, ping the
/// watchdog while its loops run, and say STOPPING=1 when SIGTERM starts the drain, then exit 0.
@Suite(.serialized) struct SystemdNotifyTests {
    @Test func readyWatchdogAndStoppingReachTheNotifySocket() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let socket = try NotifySocketStub(abstract: false)
        let worker = try WorkerProcess.daemon(h, extra: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "2000000"])
        var received: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        func watchdogAfterReady() -> Bool {
            guard let ready = received.firstIndex(where: { $0.contains("READY=1") }) else { return false }
            return received[ready...].contains { $0.contains("WATCHDOG=1") }
        }
        while ContinuousClock.now < deadline, !watchdogAfterReady() {
            if let datagram = socket.receive() { received.append(datagram) }
        }
        #expect(received.contains { $0.contains("READY=1") }, "no READY=1: \(received)")
        #expect(watchdogAfterReady(), "no WATCHDOG=1 after READY=1: \(received)")
        worker.signal(SIGTERM)
        var stopping = false
        let stopDeadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < stopDeadline, !stopping {
            if let datagram = socket.receive() { stopping = datagram.contains("STOPPING=1") }
        }
        #expect(stopping, "no STOPPING=1")
        #expect(try await worker.wait(timeout: .seconds(30)) == 0)
    }
}
