/// Every failure of the AMQP client. `code` is stable (match on it, put it in metrics); the rest
/// is context for a human. No field ever holds a password: endpoints appear redacted.
public struct AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No node accepted a TCP/TLS connection.
        public static let connectionFailed = Code(rawValue: "connection_failed")
        /// The broker refused the user name/password (or the vhost is not accessible to the user).
        public static let authenticationFailed = Code(rawValue: "authentication_failed")
        /// The socket broke (reset, closed, write error).
        public static let socketError = Code(rawValue: "socket_error")
        /// The broker stayed silent for two heartbeat intervals.
        public static let heartbeatTimeout = Code(rawValue: "heartbeat_timeout")
        /// The broker sent connection.close (e.g. 320 CONNECTION_FORCED on shutdown or `close_connection`).
        public static let connectionClosedByServer = Code(rawValue: "connection_closed_by_server")
        /// The broker closed the channel for a reason without a more specific code below.
        public static let channelClosedByServer = Code(rawValue: "channel_closed_by_server")
        /// A synchronous method or a wait for confirms did not finish in time.
        public static let timeout = Code(rawValue: "timeout")
        /// 406 PRECONDITION_FAILED: e.g. a declare whose arguments differ from the existing object.
        public static let preconditionFailed = Code(rawValue: "precondition_failed")
        /// 404 NOT_FOUND: a queue or exchange that does not exist.
        public static let notFound = Code(rawValue: "not_found")
        /// 403 ACCESS_REFUSED: permissions, or a `user_id` that is not the connection's user.
        public static let accessRefused = Code(rawValue: "access_refused")
        /// 405 RESOURCE_LOCKED: an exclusive queue or consumer owned by another connection.
        public static let resourceLocked = Code(rawValue: "resource_locked")
        /// The URL does not follow the RabbitMQ URI rules.
        public static let invalidURL = Code(rawValue: "invalid_url")
        /// TLS set-up or handshake failed (certificate, CA file, verification).
        public static let tls = Code(rawValue: "tls")
        /// A value we refused to send (e.g. too large for the frame).
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// A message we refused to publish because its content header would not fit one frame (or a short
        /// string property is over 255 bytes): a property of that message, the connection is untouched.
        public static let messageTooLarge = Code(rawValue: "message_too_large")
        /// The connection was already closed (by `close()` or after an earlier fatal error).
        public static let connectionClosed = Code(rawValue: "connection_closed")
        /// The broker sent something the protocol does not allow here.
        public static let protocolError = Code(rawValue: "protocol_error")
    }

    public var code: Code
    /// The call that failed, e.g. `declareQueue(peduli.payments)`.
    public var operation: String
    /// The node involved, redacted.
    public var endpoint: String?
    /// Reply code and text of the broker's channel.close / connection.close, when there was one.
    public var replyCode: UInt16?
    public var replyText: String?
    /// librabbitmq's status string, when the library reported the failure.
    public var libraryStatus: String?
    /// Anything else worth knowing (never personal data or secrets).
    public var detail: String?

    public init(
        code: Code, operation: String, endpoint: String? = nil, replyCode: UInt16? = nil,
        replyText: String? = nil, libraryStatus: String? = nil, detail: String? = nil
    ) {
        self.code = code
        self.operation = operation
        self.endpoint = endpoint
        self.replyCode = replyCode
        self.replyText = replyText
        self.libraryStatus = libraryStatus
        self.detail = detail
    }

    /// The connection is gone (or unusable); the only way forward is a new connection.
    public var isConnectionLost: Bool {
        switch code {
        case .connectionFailed, .socketError, .heartbeatTimeout, .connectionClosedByServer, .connectionClosed,
            .protocolError:
            return true
        case .timeout:
            // A timed-out RPC leaves the protocol state unknown; librabbitmq requires a new connection.
            // A timed-out `waitForConfirms` does not (its libraryStatus is nil).
            return libraryStatus != nil
        default:
            return false
        }
    }

    /// The connection or its channel is gone, so consumers, QoS and confirm mode are gone too:
    /// rebuild from scratch. (A channel error on a declare is usually a configuration error though,
    /// which reconnecting does not fix: see `AMQPReconnectingConnection`.)
    public var requiresReconnect: Bool {
        isConnectionLost
            || [
                .channelClosedByServer, .preconditionFailed, .notFound, .accessRefused,
                .resourceLocked,
            ].contains(code)
    }

    public var description: String {
        var text = "AMQP error \(code.rawValue) in \(operation)"
        if let endpoint { text += " at \(endpoint)" }
        if let replyCode { text += ": broker replied \(replyCode)" + (replyText.map { " \($0)" } ?? "") }
        if let libraryStatus { text += " (librabbitmq: \(libraryStatus))" }
        if let detail, !detail.isEmpty { text += " - \(detail)" }
        return text
    }
}
