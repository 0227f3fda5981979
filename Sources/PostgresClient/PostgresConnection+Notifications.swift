internal import CLibPQ
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `NOTIFY` received on a channel this connection listens to.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process that sent it (compare with ``PostgresConnection/backendProcessID`` to skip your own).
    public var senderProcessID: Int32
}

extension PostgresConnection {
    /// Subscribes this session to a channel; remembered and re-issued after reconnects.
    public func listen(_ channel: String) throws {
        try execute(simple: "LISTEN " + PostgresText.quoteIdentifier(channel))
        if !channels.contains(channel) { channels.append(channel) }
    }

    public func unlisten(_ channel: String) throws {
        try execute(simple: "UNLISTEN " + PostgresText.quoteIdentifier(channel))
        channels.removeAll { $0 == channel }
    }

    /// Sends a notification (delivered when the surrounding transaction commits).
    public func notify(channel: String, payload: String = "") throws {
        let statement = PostgresStatement.notify(channel: channel, payload: payload)
        try query(statement.sql, statement.parameters)
    }

    /// Returns the notifications that arrived, waiting up to `timeout` for the first one.
    /// An empty array means the timeout passed.
    /// - Throws: `connectionLost` when the session died; the next call reconnects and listens
    ///   again, and the caller should rescan for what it missed.
    public func waitForNotifications(timeout: Duration) throws -> [PostgresNotification] {
        let handle = try usableHandle("waitForNotifications")
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            guard PQconsumeInput(handle) == 1 else {
                throw connectionError(handle, operation: "waitForNotifications")
            }
            let received = drainNotifications(handle)
            if !received.isEmpty { return received }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return [] }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = min(
                Int64(Int32.max), seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(milliseconds))
            if ready < 0 && errno != EINTR {
                throw connectionError(handle, operation: "waitForNotifications")
            }
        }
    }

    func drainNotifications(_ handle: OpaquePointer) -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let notification = PQnotifies(handle) {
            received.append(
                PostgresNotification(
                    channel: String(cString: notification.pointee.relname),
                    payload: notification.pointee.extra.map { String(cString: $0) } ?? "",
                    senderProcessID: notification.pointee.be_pid))
            PQfreemem(notification)
        }
        return received
    }
}
