import Foundation
import Logging
import Synchronization
import Testing

@testable import PeduliWorker

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocketStub {
    let fd: Int32
    let name: String
    let path: String?

    /// `abstract` binds `@name` in the abstract namespace; otherwise a file in the temp directory.
    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        let unique = "peduli-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes: [UInt8]
        if abstract {
            name = "@" + unique
            path = nil
            bytes = [0] + Array(unique.utf8)
        } else {
            let filePath = NSTemporaryDirectory() + unique + ".sock"
            name = filePath
            path = filePath
            bytes = Array(filePath.utf8) + [0]
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, or nil after the receive timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }
}

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
