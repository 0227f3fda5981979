import Foundation
import Logging
import PeduliWorker
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a notification could not be sent. The socket path is not secret; no payload is included.
public struct SystemdNotifyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Stable machine value: `socket_path_too_long`, `socket_failed`, `send_failed`.
    public let code: String
    public let operation: String
    public let socketPath: String
    public let errno: Int32

    public var description: String {
        let reason = errno == 0 ? "" : ": " + String(cString: strerror(errno))
        return "systemd notify \(operation) on \(socketPath) failed (\(code))\(reason)"
    }
}

/// Sends sd_notify(3) messages to the service manager.
///
/// Written here rather than linking libsystemd because the protocol is one datagram on a Unix
/// socket and the worker must also run where libsystemd is absent. Without `NOTIFY_SOCKET` (not
/// under systemd, or `Type=` other than notify) every call is a no-op that succeeds.
public struct SystemdNotifier: Sendable {
    /// `$NOTIFY_SOCKET`: a filesystem path, or `@name` for an abstract socket. Nil when unset.
    public let socketPath: String?
    /// `$WATCHDOG_USEC`, when set, positive and meant for this process (`$WATCHDOG_PID`, if set,
    /// equals our pid). The watchdog must be pinged more often than this; half is customary.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.socketPath = path
        var interval: Duration?
        if let usecText = environment["WATCHDOG_USEC"], let usec = UInt64(usecText), usec > 0 {
            if let pidText = environment["WATCHDOG_PID"] {
                if let pid = Int32(pidText), pid == getpid() { interval = .microseconds(Int64(clamping: usec)) }
            } else {
                interval = .microseconds(Int64(clamping: usec))
            }
        }
        self.watchdogInterval = interval
    }

    public init(socketPath: String?, watchdogInterval: Duration?) {
        self.socketPath = socketPath
        self.watchdogInterval = watchdogInterval
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Start-up finished: the worker is consuming. `status` is shown by `systemctl status`.
    public func ready(status: String? = nil) throws(SystemdNotifyError) {
        try notify(["READY=1"] + (status.map { ["STATUS=\(Self.singleLine($0))"] } ?? []))
    }

    public func status(_ text: String) throws(SystemdNotifyError) {
        try notify(["STATUS=\(Self.singleLine(text))"])
    }

    public func watchdog() throws(SystemdNotifyError) {
        try notify(["WATCHDOG=1"])
    }

    public func stopping(status: String? = nil) throws(SystemdNotifyError) {
        try notify(["STOPPING=1"] + (status.map { ["STATUS=\(Self.singleLine($0))"] } ?? []))
    }

    /// Since systemd 253 `Type=notify-reload` expects `MONOTONIC_USEC` with `RELOADING=1`; older
    /// versions ignore the extra field.
    public func reloading() throws(SystemdNotifyError) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        try notify(["RELOADING=1", "MONOTONIC_USEC=\(usec)"])
    }

    /// Sends the assignments as one datagram, newline-separated.
    public func notify(_ assignments: [String]) throws(SystemdNotifyError) {
        guard let socketPath else { return }
        try Self.send(assignments.joined(separator: "\n"), to: socketPath)
    }

    /// A value must not contain a newline, which would start a new assignment.
    static func singleLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    static func send(_ message: String, to socketPath: String) throws(SystemdNotifyError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A filesystem path needs room for its terminating NUL; an abstract name does not have one.
        guard pathBytes.count + (abstract ? 0 : 1) <= capacity, pathBytes.count > (abstract ? 1 : 0) else {
            throw SystemdNotifyError(
                code: "socket_path_too_long", operation: "address", socketPath: socketPath, errno: 0)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let addressLength = socklen_t(
            MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + pathBytes.count + (abstract ? 0 : 1))

        #if canImport(Darwin)
            let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else {
            throw SystemdNotifyError(code: "socket_failed", operation: "socket", socketPath: socketPath, errno: errno)
        }
        defer { close(fd) }
        let payload = Array(message.utf8)
        var sent: Int
        repeat {
            sent = payload.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                        // MSG_DONTWAIT: this runs on the cooperative pool; a notify socket whose queue is full (a
                        // reader that stopped reading) blocked a pool thread, and with it the stop signal's drain.
                        sendto(
                            fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT),
                            socketAddress,
                            addressLength)
                    }
                }
            }
        } while sent < 0 && errno == EINTR
        guard sent == payload.count else {
            throw SystemdNotifyError(
                code: "send_failed", operation: "sendto", socketPath: socketPath, errno: sent < 0 ? errno : 0)
        }
    }
}

/// The worker's readiness and drain reach systemd as `READY=1` and `STOPPING=1` (with `STATUS=`); a failed
/// datagram is not the worker's problem, so it is dropped.
extension SystemdNotifier: WorkerStatusReporter {
    public func workerIsReady(status: String) { try? ready(status: status) }
    public func workerIsStopping(status: String) { try? stopping(status: status) }
}

/// Pings systemd's watchdog while the worker is making progress, and stops pinging when it is not.
///
/// The point of `WatchdogSec=` is to restart a worker that is alive but stuck (a hung C call, a
/// deadlocked loop). A timer that pinged unconditionally would prove only that the Swift runtime
/// still schedules tasks, so each ping is conditional on `isAlive` (the pipeline passes "every
/// loop reported progress recently", see `HealthState.loopsMadeProgress(within:)`).
///
/// Without a watchdog (no `WATCHDOG_USEC`) it just waits for shutdown, so it can always be added to
/// the service group. It stops on graceful shutdown: systemd disarms the watchdog once the unit is
/// stopping (`STOPPING=1`), and the drain is bounded by `TimeoutStopSec=` instead.
public struct WatchdogService: Service {
    public let notifier: SystemdNotifier
    /// Time between checks; half the watchdog interval by default.
    public let pingInterval: Duration?
    private let isAlive: @Sendable () -> Bool
    private let logger: Logger

    public init(
        notifier: SystemdNotifier,
        pingInterval: Duration? = nil,
        logger: Logger,
        isAlive: @escaping @Sendable () -> Bool
    ) {
        self.notifier = notifier
        self.pingInterval = pingInterval ?? notifier.watchdogInterval.map { $0 / 2 }
        self.logger = logger
        self.isAlive = isAlive
    }

    /// One check: pings and returns true when alive; logs and returns false otherwise.
    @discardableResult
    public func tick() -> Bool {
        guard isAlive() else {
            logger.warning("watchdog withheld: the worker's loops have not made progress")
            return false
        }
        do {
            try notifier.watchdog()
        } catch {
            logger.error("watchdog ping failed", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }

    public func run() async throws {
        guard notifier.isEnabled, let pingInterval, pingInterval > .zero else {
            try? await gracefulShutdown()
            return
        }
        let service = self
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                service.tick()
                try await Task.sleep(for: pingInterval)
            }
        }
    }
}
