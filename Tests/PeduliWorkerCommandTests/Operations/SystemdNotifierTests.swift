import Foundation
import Logging
import PeduliTestSupport
import Synchronization
import Testing

@testable import PeduliWorkerCommand

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Operations: SystemdNotifier")
struct OperationsSystemdNotifierTests {
    @Test("sends READY, STATUS, WATCHDOG, STOPPING and RELOADING datagrams", arguments: [false, true])
    func sendsDatagrams(abstract: Bool) throws {
        let stub = try NotifySocketStub(abstract: abstract)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": stub.name])
        #expect(notifier.isEnabled)
        try notifier.ready(status: "consuming\n2 queues")
        #expect(stub.receive() == "READY=1\nSTATUS=consuming 2 queues")
        try notifier.watchdog()
        #expect(stub.receive() == "WATCHDOG=1")
        try notifier.status("draining")
        #expect(stub.receive() == "STATUS=draining")
        try notifier.stopping()
        #expect(stub.receive() == "STOPPING=1")
        try notifier.reloading()
        let reloading = try #require(stub.receive())
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
    }

    @Test("without NOTIFY_SOCKET every call is a no-op")
    func noSocket() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(notifier.watchdogInterval == nil)
        try notifier.ready()
        try notifier.watchdog()
        try notifier.stopping()
    }

    @Test("a socket nobody listens on is a send_failed error naming the path")
    func missingSocket() {
        let notifier = SystemdNotifier(socketPath: "/nonexistent/peduli/notify", watchdogInterval: nil)
        #expect(throws: SystemdNotifyError.self) { try notifier.watchdog() }
        do {
            try notifier.watchdog()
        } catch {
            #expect(error.code == "send_failed")
            #expect(error.description.contains("/nonexistent/peduli/notify"))
        }
    }

    @Test("a path longer than sun_path is rejected")
    func pathTooLong() {
        let notifier = SystemdNotifier(socketPath: "/" + String(repeating: "x", count: 200), watchdogInterval: nil)
        do {
            try notifier.ready()
            Issue.record("expected an error")
        } catch {
            #expect(error.code == "socket_path_too_long")
        }
    }

    @Test(
        "WATCHDOG_USEC gives the interval when meant for this process",
        arguments: [
            (["WATCHDOG_USEC": "30000000"], Duration?.some(.seconds(30))),
            (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"], .some(.seconds(30))),
            (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"], nil),
            (["WATCHDOG_USEC": "0"], nil),
            (["WATCHDOG_USEC": "abc"], nil),
            ([:], nil),
        ])
    func watchdogInterval(environment: [String: String], expected: Duration?) {
        #expect(SystemdNotifier(environment: environment).watchdogInterval == expected)
    }
}

@Suite("Operations: WatchdogService")
struct OperationsWatchdogServiceTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("tick pings only while the liveness check is true")
    func tickFollowsLiveness() throws {
        let stub = try NotifySocketStub(abstract: false)
        let alive = Mutex(false)
        let service = WatchdogService(
            notifier: SystemdNotifier(socketPath: stub.name, watchdogInterval: .seconds(30)),
            logger: logger, isAlive: { alive.withLock { $0 } })
        #expect(service.pingInterval == .seconds(15))
        #expect(!service.tick())
        #expect(stub.receive() == nil)
        alive.withLock { $0 = true }
        #expect(service.tick())
        #expect(stub.receive() == "WATCHDOG=1")
    }

    @Test("the running service sends nothing while not alive, then pings once alive")
    func runLoop() async throws {
        let stub = try NotifySocketStub(abstract: true)
        let alive = Mutex(false)
        let service = WatchdogService(
            notifier: SystemdNotifier(socketPath: stub.name, watchdogInterval: .milliseconds(40)),
            logger: logger, isAlive: { alive.withLock { $0 } })
        let task = Task { try await service.run() }
        try await Task.sleep(for: .milliseconds(150))
        #expect(stub.receive() == nil)
        alive.withLock { $0 = true }
        try await Task.sleep(for: .milliseconds(100))
        #expect(stub.receive() == "WATCHDOG=1")
        task.cancel()
        _ = try await task.value
    }
}
