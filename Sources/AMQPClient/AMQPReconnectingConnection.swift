import Logging
internal import PeduliBase

/// Keeps one set-up `AMQPConnection` alive on the calling thread: builds it, runs `setUp` on it
/// (declare topology, QoS, confirm mode, consumers), and after a lost connection or channel
/// (socket error, heartbeat timeout, broker close, broker cancel if `setUp`'s caller throws)
/// throws it away and builds a new one with backoff, moving on to the next cluster node.
///
/// Same threading contract as `AMQPConnection`: use it from the one thread you own.
public final class AMQPReconnectingConnection {
    public let configuration: AMQPConfiguration
    public var backoff: Backoff
    private let logger: Logger
    private let setUp: (AMQPConnection) throws -> Void
    private let sleep: (Duration) -> Void
    private let random: () -> Double

    /// Runs from inside the reconnect loop: before each node is tried and between the slices of each back-off
    /// sleep, so the owner of the thread can report liveness (a systemd watchdog) during a broker outage.
    public var onProgress: () -> Void = {}

    /// The current connection, if one is up.
    public private(set) var connection: AMQPConnection?
    /// Incremented for every connection built; 1 for the first.
    public private(set) var generation: UInt64 = 0
    private var nextStartIndex = 0

    /// - Parameters:
    ///   - setUp: runs on every new connection before it is handed out. An error that is not a
    ///     lost connection (e.g. 406 PRECONDITION_FAILED on a declare) is a configuration problem
    ///     that no reconnect fixes: it is rethrown.
    ///   - sleep: injected for tests; by default blocks the thread.
    ///   - random: source of jitter in 0..<1.
    public init(
        configuration: AMQPConfiguration, backoff: Backoff = Backoff(),
        logger: Logger = Logger(label: "peduli.amqp"),
        sleep: @escaping (Duration) -> Void = AMQPReconnectingConnection.blockingSleepDefault,
        random: @escaping () -> Double = { Double.random(in: 0..<1) },
        setUp: @escaping (AMQPConnection) throws -> Void
    ) {
        self.configuration = configuration
        self.backoff = backoff
        self.logger = logger
        self.sleep = sleep
        self.random = random
        self.setUp = setUp
    }

    deinit { connection?.close() }

    /// Returns the current connection, building one first if needed. Retries until it succeeds,
    /// `shouldStop()` turns true (then throws `.connectionClosed`), or a non-retryable error occurs.
    public func connect(shouldStop: () -> Bool = { false }) throws -> AMQPConnection {
        if let connection, connection.isOpen { return connection }
        connection?.close()
        connection = nil
        var attempt = 0
        while true {
            onProgress()
            if shouldStop() {
                throw AMQPError(code: .connectionClosed, operation: "reconnect", detail: "stopped before connecting")
            }
            do {
                let candidate = try AMQPConnection(
                    configuration: configuration, startIndex: nextStartIndex,
                    generation: generation + 1, beforeEachNode: onProgress)
                do {
                    try setUp(candidate)
                } catch {
                    candidate.close()
                    throw error
                }
                generation += 1
                connection = candidate
                logger.info(
                    "AMQP connected",
                    metadata: [
                        "endpoint": "\(candidate.endpoint.redacted)",
                        "generation": "\(generation)",
                    ])
                return candidate
            } catch let error as AMQPError where Self.isRetryable(error) {
                let delay = backoff.delay(attempt: attempt, random: random())
                logger.warning(
                    "AMQP connect failed; retrying",
                    metadata: ["error": "\(error)", "attempt": "\(attempt + 1)", "delay": "\(delay)"])
                attempt += 1
                sleepInterruptibly(delay, shouldStop: shouldStop)
            }
        }
    }

    /// Forgets the current connection after `error`. The next `connect()` starts at the node after
    /// the one that failed, so a dead node is not tried first again.
    public func connectionLost(_ error: Error) {
        if let connection {
            logger.warning(
                "AMQP connection lost",
                metadata: [
                    "error": "\(error)",
                    "endpoint": "\(connection.endpoint.redacted)",
                ])
            nextStartIndex = connection.endpointIndex + 1
            connection.close()
        }
        connection = nil
    }

    /// Runs `body` on a connected, set-up connection; when it throws an error that needs a new
    /// connection, reconnects and runs it again. Returns when `body` returns; rethrows other errors.
    public func run(shouldStop: () -> Bool = { false }, _ body: (AMQPConnection) throws -> Void) throws {
        while true {
            let current = try connect(shouldStop: shouldStop)
            do {
                try body(current)
                return
            } catch let error as AMQPError where error.requiresReconnect {
                connectionLost(error)
                if shouldStop() { throw error }
            }
        }
    }

    public func close() {
        connection?.close()
        connection = nil
    }

    /// Connection-level trouble and authentication (a password may be rotated on the broker first)
    /// are worth retrying; a bad configuration or a refused declaration is not.
    static func isRetryable(_ error: AMQPError) -> Bool {
        error.isConnectionLost || error.code == .authenticationFailed || error.code == .tls
            || error.code == .channelClosedByServer
    }

    /// Sleeps in slices of at most 100 ms so that a stop request is honoured quickly.
    private func sleepInterruptibly(_ delay: Duration, shouldStop: () -> Bool) {
        var left = delay
        while left > .zero, !shouldStop() {
            let slice = min(left, .milliseconds(100))
            onProgress()
            sleep(slice)
            left -= slice
        }
    }

    /// The default `sleep` (a default argument may only name what importers can see).
    @usableFromInline static func blockingSleepDefault(_ duration: Duration) { blockingSleep(duration) }
}
