import CLibPQ
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One statement of a ``PostgresConnection/pipeline(_:)``.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var parameters: [PostgresValue?]

    public init(_ sql: String, _ parameters: [PostgresValue?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// A `NOTIFY` received on a channel this connection listens to.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process that sent it (compare with ``PostgresConnection/backendProcessID`` to skip your own).
    public var senderProcessID: Int32
}

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
    private let logger: Logger
    private var handle: OpaquePointer?
    /// Prepared statements in the order they were prepared, to redo them after a reconnect.
    private var preparedStatements: [(name: String, sql: String)] = []
    /// Statements this session already parsed, by SQL text and parameter types (names are never reused
    /// within a session: entries are only dropped all at once, with the session).
    private var statementCache: [StatementKey: String] = [:]
    /// Channels to LISTEN on again after a reconnect.
    private var channels: [String] = []
    private var insideTransaction = false
    /// Set when the session died with a hand-written transaction open.
    private var lostInsideTransaction = false
    /// Whether the server reported an open transaction after the last statement (libpq can no
    /// longer tell once the session is dead).
    private var serverTransactionOpen = false

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

    // MARK: statements

    /// Runs one statement with parameters `$1`, `$2`, ... sent apart from the SQL text.
    ///
    /// The first run of a statement on a session prepares it (one extra round trip); every later run with
    /// the same SQL and parameter types skips the server's parse and analysis. It is still planned at each
    /// run (`plan_cache_mode=force_custom_plan`, see ``PostgresConfiguration``). On small batches parsing and
    /// planning were a third of PostgreSQL's CPU. Up to ``PostgresConfiguration/statementCacheCapacity``
    /// statements are kept; others run unprepared.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue?] = []) throws -> PostgresResult {
        try Self.checkSQL(sql, operation: "query")
        let handle = try usableHandle("query")
        let encoded = try Self.encode(parameters, operation: "query")
        let name = try cachedStatement(handle, sql: sql, types: encoded.types, operation: "query")
        let result = encoded.withCArrays { count, types, values in
            if let name {
                PQexecPrepared(handle, name, count, values, nil, nil, 0)
            } else {
                PQexecParams(handle, sql, count, types, values, nil, nil, 0)
            }
        }
        return try check(result, operation: "query", mayCommit: true)
    }

    /// The server-side name of `sql` with these parameter types, preparing it on first use; nil when the
    /// cache is off or full.
    private func cachedStatement(
        _ handle: OpaquePointer, sql: String, types: [UInt32], operation: String
    ) throws -> String? {
        guard configuration.statementCacheCapacity > 0 else { return nil }
        let key = StatementKey(sql: sql, types: types)
        if let name = statementCache[key] { return name }
        guard statementCache.count < configuration.statementCacheCapacity else { return nil }
        let name = "cached_statement_\(statementCache.count + 1)"
        try prepareOnServer(handle, name: name, sql: sql, types: types, operation: operation)
        statementCache[key] = name
        return name
    }

    private struct StatementKey: Hashable {
        var sql: String
        var types: [UInt32]
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue?] = []) throws -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs a script of several `;`-separated statements without parameters (the simple query
    /// protocol), e.g. a migration. Returns the last statement's result. Outside a transaction
    /// the script runs as one implicit transaction.
    @discardableResult
    public func execute(simple sql: String) throws -> PostgresResult {
        try Self.checkSQL(sql, operation: "execute")
        let handle = try usableHandle("execute")
        return try check(PQexec(handle, sql), operation: "execute", mayCommit: true)
    }

    /// Prepares a named statement on the server, once per session; it is prepared again after
    /// every reconnect. Preparing the same name with the same SQL again does nothing.
    public func prepare(name: String, sql: String) throws {
        try Self.checkSQL(name + sql, operation: "prepare")
        if let existing = preparedStatements.first(where: { $0.name == name }) {
            if existing.sql == sql { return }
            try execute(simple: "DEALLOCATE " + PostgresText.quoteIdentifier(name))
            preparedStatements.removeAll { $0.name == name }
        }
        let handle = try usableHandle("prepare")
        try prepareOnServer(handle, name: name, sql: sql)
        preparedStatements.append((name, sql))
    }

    /// Runs a statement prepared with ``prepare(name:sql:)``.
    @discardableResult
    public func executePrepared(name: String, _ parameters: [PostgresValue?] = []) throws -> PostgresResult {
        guard preparedStatements.contains(where: { $0.name == name }) else {
            throw PostgresError.misuse("executePrepared", "no statement named \"\(name)\" was prepared")
        }
        let handle = try usableHandle("executePrepared")
        let encoded = try Self.encode(parameters, operation: "executePrepared")
        let result = encoded.withCArrays { count, _, values in
            PQexecPrepared(handle, name, count, values, nil, nil, 0)
        }
        return try check(result, operation: "executePrepared", mayCommit: true)
    }

    // MARK: transactions

    /// Runs `body` between BEGIN and COMMIT; any error thrown by `body` rolls back and is
    /// rethrown. Transactions do not nest.
    ///
    /// - Throws: the body's error; a ``PostgresError`` for BEGIN/COMMIT. When the connection
    ///   dies while COMMIT is in flight the error has category `connectionLost` and
    ///   `commitOutcomeUnknown == true`: the work may or may not be committed. When an error
    ///   inside the body was caught and ignored, COMMIT rolls back and this throws (code
    ///   `server`, operation `commit`) instead of pretending success.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        guard !insideTransaction else {
            throw PostgresError.misuse("transaction", "transactions do not nest")
        }
        let begin = try usableHandle("begin")
        _ = try check(PQexec(begin, "BEGIN"), operation: "begin")
        insideTransaction = true
        defer { insideTransaction = false }

        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }

        let handle = try usableHandle("commit")
        let committed: PostgresResult
        do {
            committed = try check(PQexec(handle, "COMMIT"), operation: "commit")
        } catch var error as PostgresError where error.category == .connectionLost {
            error.commitOutcomeUnknown = true
            throw error
        }
        if committed.commandTag == "ROLLBACK" {
            throw PostgresError(
                code: .server, operation: "commit",
                message: "the transaction was rolled back: a statement inside it had failed")
        }
        return value
    }

    private func rollbackQuietly() {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }

    // MARK: pipeline

    /// Sends all statements in one round trip (libpq pipeline mode, one Sync) and returns one
    /// result per statement.
    ///
    /// Outside ``transaction(_:)`` the statements form one implicit transaction: all or nothing.
    /// The first failing statement aborts the rest; the error carries its `statementIndex`.
    /// COPY is not allowed. Every parameter is checked before anything is sent.
    public func pipeline(_ statements: [PostgresStatement]) throws -> [PostgresResult] {
        guard !statements.isEmpty else { return [] }
        for (index, statement) in statements.enumerated() {
            do {
                try Self.checkSQL(statement.sql, operation: "pipeline")
            } catch var error as PostgresError {
                error.statementIndex = index
                throw error
            }
        }
        let encoded = try statements.enumerated().map { index, statement in
            do {
                return try Self.encode(statement.parameters, operation: "pipeline")
            } catch var error as PostgresError {
                error.statementIndex = index
                throw error
            }
        }
        let handle = try usableHandle("pipeline")
        let implicitCommit = !insideTransaction && !serverTransactionOpen
        // Statements not prepared yet are prepared before the pipeline starts: nothing has run when one fails.
        let names = try statements.enumerated().map { index, statement in
            do {
                return try cachedStatement(
                    handle, sql: statement.sql, types: encoded[index].types, operation: "pipeline")
            } catch var error as PostgresError {
                error.statementIndex = index
                throw error
            }
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw connectionError(handle, operation: "pipeline")
        }
        for (index, statement) in statements.enumerated() {
            let sent = encoded[index].withCArrays { count, types, values in
                if let name = names[index] {
                    PQsendQueryPrepared(handle, name, count, values, nil, nil, 0)
                } else {
                    PQsendQueryParams(handle, statement.sql, count, types, values, nil, nil, 0)
                }
            }
            guard sent == 1 else { throw abandon(handle, operation: "pipeline", statementIndex: index) }
        }
        guard PQpipelineSync(handle) == 1 else { throw abandon(handle, operation: "pipeline") }
        do {
            return try readPipelineResults(handle, count: statements.count)
        } catch var error as PostgresError where implicitCommit && error.category == .connectionLost {
            // The Sync was sent: the server may have committed the implicit transaction.
            error.commitOutcomeUnknown = true
            throw error
        }
    }

    private func readPipelineResults(_ handle: OpaquePointer, count: Int) throws -> [PostgresResult] {
        var results: [PostgresResult] = []
        results.reserveCapacity(count)
        var current: PostgresResult?
        var firstError: PostgresError?
        reading: while true {
            guard let result = PQgetResult(handle) else {
                // One statement's results are complete.
                guard PQstatus(handle) == CONNECTION_OK, results.count < count else {
                    throw abandon(handle, operation: "pipeline", statementIndex: firstError?.statementIndex)
                }
                results.append(current ?? PostgresResult(columns: [], rows: []))
                current = nil
                continue
            }
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_PIPELINE_SYNC:
                break reading
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                current = Self.copy(result)
            case PGRES_PIPELINE_ABORTED:
                continue
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
                if PQstatus(handle) != CONNECTION_OK {
                    throw abandon(handle, operation: "pipeline", statementIndex: results.count)
                }
                if firstError == nil {
                    var error = serverError(result, operation: "pipeline")
                    error.statementIndex = results.count
                    firstError = error
                }
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                _ = abandon(handle, operation: "pipeline")
                throw PostgresError.misuse("pipeline", "COPY cannot run in a pipeline")
            default:
                continue
            }
        }
        guard PQexitPipelineMode(handle) == 1 else { throw abandon(handle, operation: "pipeline") }
        rememberTransactionStatus()
        if let firstError { throw firstError }
        guard results.count == count else {
            throw PostgresError(
                code: .server, operation: "pipeline",
                message: "expected \(count) results, received \(results.count)")
        }
        return results
    }

    // MARK: LISTEN / NOTIFY

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
        try query("SELECT pg_notify($1, $2)", [channel, payload])
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

    private func drainNotifications(_ handle: OpaquePointer) -> [PostgresNotification] {
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

    // MARK: internals

    private static func connect(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
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
    private func usableHandle(_ operation: String) throws -> OpaquePointer {
        if let handle, PQstatus(handle) == CONNECTION_OK, !lostInsideTransaction { return handle }
        if insideTransaction || lostInsideTransaction {
            throw PostgresError(
                code: .connectionLost, category: .connectionLost, operation: operation,
                message: "the connection was lost inside a transaction; call reconnect() before going on")
        }
        try reconnect()
        return handle!
    }

    private func prepareOnServer(
        _ handle: OpaquePointer, name: String, sql: String, types: [UInt32] = [], operation: String = "prepare"
    ) throws {
        let result = types.withUnsafeBufferPointer { types in
            PQprepare(handle, name, sql, Int32(types.count), types.baseAddress)
        }
        _ = try check(result, operation: operation)
    }

    /// Turns a finished `PGresult` into a value or an error, and frees it. `mayCommit`: the
    /// statement ran in autocommit mode, so a lost connection leaves its outcome unknown.
    private func check(_ result: OpaquePointer?, operation: String, mayCommit: Bool = false) throws -> PostgresResult {
        let implicitCommit = mayCommit && !insideTransaction && !serverTransactionOpen
        do {
            return try checkResult(result, operation: operation)
        } catch var error as PostgresError where implicitCommit && error.category == .connectionLost {
            error.commitOutcomeUnknown = true
            throw error
        }
    }

    private func checkResult(_ result: OpaquePointer?, operation: String) throws -> PostgresResult {
        guard let handle else {
            throw PostgresError(
                code: .connectionLost, category: .connectionLost, operation: operation, message: "not connected")
        }
        guard let result else { throw connectionError(handle, operation: operation) }
        defer {
            PQclear(result)
            rememberTransactionStatus()
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return Self.copy(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            _ = abandon(handle, operation: operation)
            throw PostgresError.misuse(operation, "COPY is not supported by this client")
        default:
            throw serverError(result, operation: operation)
        }
    }

    private func serverError(_ result: OpaquePointer, operation: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let sqlState = field("C")
        let primary = field("M") ?? PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
        var error = PostgresError(
            code: .server, category: PostgresError.category(forSQLState: sqlState), operation: operation,
            sqlState: sqlState, message: PostgresError.sanitizedServerMessage(primary, sqlState: sqlState),
            constraint: field("n"))
        if let handle, PQstatus(handle) != CONNECTION_OK {
            noteLostConnection()
            error.code = .connectionLost
            error.category = .connectionLost
        }
        return error
    }

    /// An error for a failure without a server error result (broken socket, out of memory).
    private func connectionError(_ handle: OpaquePointer, operation: String) -> PostgresError {
        let lost = PQstatus(handle) != CONNECTION_OK
        if lost { noteLostConnection() }
        return PostgresError(
            code: lost ? .connectionLost : .server, category: lost ? .connectionLost : .other,
            operation: operation, message: Self.connectionMessage(handle))
    }

    /// Drops a session left in a state this client cannot continue from (a broken pipeline,
    /// an unexpected COPY); the next call reconnects.
    private func abandon(_ handle: OpaquePointer, operation: String, statementIndex: Int? = nil) -> PostgresError {
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

    private func rememberTransactionStatus() {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }
        serverTransactionOpen = PQtransactionStatus(handle) != PQTRANS_IDLE
    }

    private func noteLostConnection() {
        // A hand-written BEGIN died with the session: refuse to continue on a fresh one.
        if !insideTransaction && serverTransactionOpen { lostInsideTransaction = true }
        serverTransactionOpen = false
        logger.warning("PostgreSQL connection lost")
    }

    private static func connectionMessage(_ handle: OpaquePointer) -> String {
        let raw = PQerrorMessage(handle).map { String(cString: $0) } ?? ""
        let lines = raw.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.isEmpty ? "connection failed" : lines.joined(separator: "; ")
    }

    static func copy(_ result: OpaquePointer) -> PostgresResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let names = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<columnCount).map { PQftype(result, Int32($0)) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                values.append(
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column)))
            }
            rows.append(values)
        }
        let tag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return PostgresResult(
            columns: names, columnTypeOIDs: types, rows: rows, affectedRows: affected, commandTag: tag)
    }

    /// Parameters as owned C strings, alive for the whole libpq call.
    final class EncodedParameters {
        let texts: [UnsafeMutablePointer<CChar>?]
        let types: [UInt32]

        init(texts: [UnsafeMutablePointer<CChar>?], types: [UInt32]) {
            self.texts = texts
            self.types = types
        }

        func withCArrays<R>(
            _ body: (Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
        ) -> R {
            let pointers = texts.map { UnsafePointer($0) }
            return pointers.withUnsafeBufferPointer { values in
                types.withUnsafeBufferPointer { types in
                    body(Int32(texts.count), types.baseAddress, values.baseAddress)
                }
            }
        }

        deinit { texts.forEach { free($0) } }
    }

    /// Swift strings may hold NUL; C strings end there, so libpq would silently run a prefix.
    static func checkSQL(_ sql: String, operation: String) throws {
        if sql.utf8.contains(0) {
            throw PostgresError.misuse(operation, "the SQL text contains a NUL character")
        }
    }

    static func encode(_ parameters: [PostgresValue?], operation: String) throws -> EncodedParameters {
        guard parameters.count <= Int(UInt16.max) else {
            throw PostgresError(
                code: .invalidParameter, operation: operation, message: "more than 65535 parameters")
        }
        var texts: [UnsafeMutablePointer<CChar>?] = []
        var types: [UInt32] = []
        texts.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            guard let parameter else {
                texts.append(nil)
                types.append(0)
                continue
            }
            var text = parameter.postgresText
            // One memchr and one memcpy over the contiguous UTF-8 (a byte-by-byte `utf8.contains(0)`
            // followed by strdup was 4 % of the worker's CPU in a backlog).
            let copy = text.withUTF8 { bytes -> UnsafeMutablePointer<CChar>? in
                if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil { return nil }
                // malloc, like the strdup it replaces: EncodedParameters frees with free().
                let buffer = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
                if let base = bytes.baseAddress { memcpy(buffer, base, bytes.count) }
                buffer[bytes.count] = 0
                return buffer
            }
            guard let copy else {
                texts.forEach { free($0) }
                throw PostgresError(
                    code: .invalidParameter, operation: operation,
                    message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot store")
            }
            texts.append(copy)
            types.append(parameter.postgresTypeOID)
        }
        return EncodedParameters(texts: texts, types: types)
    }
}
