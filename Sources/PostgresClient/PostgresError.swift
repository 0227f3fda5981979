import Foundation

/// Every failure of the PostgreSQL client, as one type so callers need one `catch`.
///
/// Callers decide what to do from `category` (retry the transaction, treat a duplicate as
/// "already done", reconnect), never by parsing `message`. The description carries the
/// failing operation, the SQLSTATE and the server's primary message only: PostgreSQL's DETAIL
/// of a unique violation contains the key values (NIKs), so it is never read at all, and
/// data-exception messages (class 22) have their quoted input values removed.
public struct PostgresError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What the caller should do about the error.
    public enum Category: String, Sendable, Equatable, CaseIterable {
        /// A unique constraint rejected the row (SQLSTATE 23505): usually "already done".
        case duplicate
        /// Serialization failure or deadlock (40001, 40P01): run the whole transaction again.
        case retryable
        /// The session is gone (57P01..57P03, class 08, or a broken socket): reconnect.
        case connectionLost
        /// Anything else: a bug, bad data or a schema problem; retrying will not help.
        case other
    }

    /// Stable identifiers for logs and metrics; the set only grows.
    public enum Code: String, Sendable, Equatable {
        /// The connection string or URL could not be parsed.
        case invalidConfiguration = "postgres.invalid_configuration"
        /// Connecting (or reconnecting) failed.
        case connectionFailed = "postgres.connection_failed"
        /// The connection broke during an operation.
        case connectionLost = "postgres.connection_lost"
        /// The server rejected a statement (see `sqlState`).
        case server = "postgres.server_error"
        /// A parameter could not be sent (e.g. contains a NUL character).
        case invalidParameter = "postgres.invalid_parameter"
        /// A column was missing, NULL where a value was required, or not of the requested type.
        case decoding = "postgres.decoding"
        /// The API was used in a way it does not support (nested transaction, unknown prepared name, COPY).
        case misuse = "postgres.misuse"
        /// A migration list or the applied migrations do not agree.
        case migration = "postgres.migration"
    }

    public var code: Code
    public var category: Category
    /// The client operation that failed, e.g. `query`, `commit`, `pipeline`, `migrate`.
    public var operation: String
    /// Five-character SQLSTATE when the server sent one.
    public var sqlState: String?
    /// The server's primary message (or the client's own explanation); never DETAIL, never parameter values.
    public var message: String
    /// The violated constraint's name (PG_DIAG_CONSTRAINT_NAME), e.g. to tell which unique key clashed.
    public var constraint: String?
    /// For `pipeline`: the index of the statement that failed.
    public var statementIndex: Int?
    /// True when the connection died while a commit was in flight, so the work may or may not
    /// have been committed and whatever it confirms must not be acknowledged yet: the COMMIT of
    /// ``PostgresConnection/transaction(_:)``, a statement run in autocommit mode, or a
    /// pipeline outside a transaction (its implicit commit). A hand-written `COMMIT` sent with
    /// `execute(simple:)` is not tracked: use `transaction(_:)`.
    public var commitOutcomeUnknown: Bool

    public init(
        code: Code, category: Category = .other, operation: String, sqlState: String? = nil,
        message: String, constraint: String? = nil, statementIndex: Int? = nil,
        commitOutcomeUnknown: Bool = false
    ) {
        self.code = code
        self.category = category
        self.operation = operation
        self.sqlState = sqlState
        self.message = message
        self.constraint = constraint
        self.statementIndex = statementIndex
        self.commitOutcomeUnknown = commitOutcomeUnknown
    }

    public var description: String {
        var text = "PostgreSQL \(operation) failed [\(code.rawValue), \(category.rawValue)"
        if let sqlState { text += ", SQLSTATE \(sqlState)" }
        text += "]"
        if let statementIndex { text += " at statement \(statementIndex)" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        if commitOutcomeUnknown { text += "; commit outcome unknown" }
        return text
    }

    /// The classification table. Pure, so it is tested without a server.
    public static func category(forSQLState sqlState: String?) -> Category {
        guard let sqlState, sqlState.utf8.count == 5 else { return .other }
        switch sqlState {
        case "23505": return .duplicate
        case "40001", "40P01": return .retryable
        case "57P01", "57P02", "57P03": return .connectionLost
        default: return sqlState.hasPrefix("08") ? .connectionLost : .other
        }
    }

    /// The first line of a server message, with double-quoted fragments removed for SQLSTATE
    /// class 22 (data exception): those messages quote the offending input
    /// (`invalid input syntax for type uuid: "..."`), which may be personal data. Other classes
    /// quote only identifiers (tables, columns, constraints), which are kept.
    public static func sanitizedServerMessage(_ message: String, sqlState: String?) -> String {
        let firstLine = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        let trimmed = firstLine.trimmingCharacters(in: .whitespaces)
        guard let sqlState, sqlState.hasPrefix("22") else { return trimmed }
        var out = ""
        var inQuote = false
        for ch in trimmed {
            if ch == "\"" {
                out += inQuote ? "…\"" : "\""
                inQuote.toggle()
            } else if !inQuote {
                out.append(ch)
            }
        }
        if inQuote { out += "…\"" }
        return out
    }
}

extension PostgresError {
    static func misuse(_ operation: String, _ message: String) -> PostgresError {
        PostgresError(code: .misuse, operation: operation, message: message)
    }

    static func decoding(_ message: String) -> PostgresError {
        PostgresError(code: .decoding, operation: "decode", message: message)
    }
}
