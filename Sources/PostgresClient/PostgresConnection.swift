internal import CLibPQ
import Foundation
import Logging

/// One PostgreSQL session over libpq, with blocking calls.
///
/// **Threading:** not `Sendable`. Create it, use it and drop it on one thread you own (a
/// Foundation `Thread`, never a Swift concurrency task: every call blocks until the server
/// answers). libpq connections are not safe to share; open one per thread instead.
///
/// **Losing the connection:** the call that notices a dead session throws a ``PostgresError``
/// whose category is `connectionLost`, so the caller always learns about it (a LISTEN
/// connection must rescan: notifications sent meanwhile are lost). The *next* call reconnects
/// by itself, prepares the remembered statements again and re-issues LISTEN, except inside
/// ``transaction(_:)`` or after a hand-written `BEGIN`, where a new session would silently run
/// the rest of the work outside the transaction: there it keeps throwing until the transaction
/// ends or ``reconnect()`` is called.
public final class PostgresConnection {
    public let configuration: PostgresConfiguration
    let logger: Logger
    var handle: OpaquePointer?
    /// Prepared statements in the order they were prepared, to redo them after a reconnect.
    var preparedStatements: [(name: String, sql: String)] = []
    /// Statements this session already parsed, by SQL text and parameter types (names are never reused
    /// within a session: entries are only dropped all at once, with the session).
    var statementCache: [StatementKey: String] = [:]
    /// Channels to LISTEN on again after a reconnect.
    var channels: [String] = []
    var insideTransaction = false
    /// Set when the session died with a hand-written transaction open.
    var lostInsideTransaction = false
    /// Whether the server reported an open transaction after the last statement (libpq can no
    /// longer tell once the session is dead).
    var serverTransactionOpen = false

    /// Connects (blocking, at most `connect_timeout` per host).
    /// - Throws: ``PostgresError`` `connectionFailed` (category `connectionLost`).
    public init(configuration: PostgresConfiguration, logger: Logger = Logger(label: "peduli.postgres")) throws {
        self.configuration = configuration
        self.logger = logger
        self.handle = try Self.connect(configuration)
    }

    /// Convenience: parses a URL or connection string, then connects.
    public convenience init(_ connectionString: String, logger: Logger = Logger(label: "peduli.postgres")) throws {
        try self.init(configuration: PostgresConfiguration(connectionString), logger: logger)
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    // MARK: state

    /// Whether the session looks usable, checked without a round trip (reads whatever the server
    /// already sent, so a terminated session is noticed).
    public var isAlive: Bool {
        guard !lostInsideTransaction, let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        return PQconsumeInput(handle) == 1 && PQstatus(handle) == CONNECTION_OK
    }

    /// The server process serving this session (`pg_backend_pid()`), 0 when disconnected.
    public var backendProcessID: Int32 {
        handle.map { PQbackendPID($0) } ?? 0
    }

    /// Names of statements prepared on this connection (and re-prepared after reconnects).
    public var preparedStatementNames: [String] { preparedStatements.map(\.name) }

    /// Channels this connection listens to (and listens to again after reconnects).
    public var listeningChannels: [String] { channels }

    // MARK: reconnecting

    /// Closes the session (if any) and opens a new one, then prepares the remembered statements
    /// again and re-issues LISTEN. Server-side session state (temporary tables, SET, advisory
    /// locks) is gone.
    public func reconnect() throws {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
        lostInsideTransaction = false
        serverTransactionOpen = false
        statementCache.removeAll()
        let handle = try Self.connect(configuration)
        self.handle = handle
        do {
            for statement in preparedStatements {
                try prepareOnServer(handle, name: statement.name, sql: statement.sql)
            }
            for channel in channels {
                _ = try check(PQexec(handle, "LISTEN " + PostgresText.quoteIdentifier(channel)), operation: "listen")
            }
        } catch {
            // A half-restored session would fail later in confusing ways; the next call tries again.
            if self.handle == handle {
                PQfinish(handle)
                self.handle = nil
            }
            throw error
        }
        logger.info(
            "reconnected to PostgreSQL",
            metadata: [
                "prepared": "\(preparedStatements.count)", "channels": "\(channels.count)",
                "backend_pid": "\(PQbackendPID(handle))",
            ])
    }

    /// The same as ``reconnect()`` (named after libpq's `PQreset`).
    public func reset() throws { try reconnect() }

    // MARK: sessions

    static func connect(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
        let parameters = configuration.connectionParameters
        let keywords = parameters.map { strdup($0.keyword) }
        let values = parameters.map { strdup($0.value) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordArray = keywords.map { UnsafePointer($0) } + [nil]
        let valueArray = values.map { UnsafePointer($0) } + [nil]
        guard let handle = PQconnectdbParams(keywordArray, valueArray, 0) else {
            throw PostgresError(
                code: .connectionFailed, category: .connectionLost, operation: "connect", message: "out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.connectionMessage(handle)
            PQfinish(handle)
            throw PostgresError(
                code: .connectionFailed, category: .connectionLost, operation: "connect", message: message)
        }
        // libpq prints NOTICEs (e.g. "relation already exists, skipping") to stderr by default;
        // a daemon's stderr is its structured log, so they are dropped.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        return handle
    }

    /// The handle for the next operation, reconnecting first when that is safe (see the type's documentation).
    func usableHandle(_ operation: String) throws -> OpaquePointer {
        if let handle, PQstatus(handle) == CONNECTION_OK, !lostInsideTransaction { return handle }
        if insideTransaction || lostInsideTransaction {
            throw PostgresError(
                code: .connectionLost, category: .connectionLost, operation: operation,
                message: "the connection was lost inside a transaction; call reconnect() before going on")
        }
        try reconnect()
        return handle!
    }

    /// An error for a failure without a server error result (broken socket, out of memory).
    func connectionError(_ handle: OpaquePointer, operation: String) -> PostgresError {
        let lost = PQstatus(handle) != CONNECTION_OK
        if lost { noteLostConnection() }
        return PostgresError(
            code: lost ? .connectionLost : .server, category: lost ? .connectionLost : .other,
            operation: operation, message: Self.connectionMessage(handle))
    }

    /// Drops a session left in a state this client cannot continue from (a broken pipeline,
    /// an unexpected COPY); the next call reconnects.
    func abandon(_ handle: OpaquePointer, operation: String, statementIndex: Int? = nil) -> PostgresError {
        let wasAlreadyLost = PQstatus(handle) != CONNECTION_OK
        var error = connectionError(handle, operation: operation)
        if !wasAlreadyLost { noteLostConnection() }
        error.code = .connectionLost
        error.category = .connectionLost
        error.statementIndex = statementIndex
        PQfinish(handle)
        if self.handle == handle { self.handle = nil }
        return error
    }

    func rememberTransactionStatus() {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }
        serverTransactionOpen = PQtransactionStatus(handle) != PQTRANS_IDLE
    }

    func noteLostConnection() {
        // A hand-written BEGIN died with the session: refuse to continue on a fresh one.
        if !insideTransaction && serverTransactionOpen { lostInsideTransaction = true }
        serverTransactionOpen = false
        logger.warning("PostgreSQL connection lost")
    }

    static func connectionMessage(_ handle: OpaquePointer) -> String {
        let raw = PQerrorMessage(handle).map { String(cString: $0) } ?? ""
        let lines = raw.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.isEmpty ? "connection failed" : lines.joined(separator: "; ")
    }
}
