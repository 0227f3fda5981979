internal import CLibPQ
import Foundation

/// Where and how to connect, parsed once from a `postgresql://` URL or a libpq `key=value`
/// connection string (several hosts, `sslmode`, `target_session_attrs`, ... all pass through).
///
/// Parsing is libpq's own (`PQconninfoParse`), so every form operations may paste from the
/// PostgreSQL documentation is accepted exactly as `psql` accepts it. Two settings get
/// defaults when absent, because a daemon must never hang on a dead host and the DBA must be
/// able to tell its sessions apart in `pg_stat_activity`:
/// - `application_name`: ``defaultApplicationName`` (`peduli-worker`);
/// - `connect_timeout`: ``defaultConnectTimeoutSeconds`` (10 s, per host tried);
/// - `client_encoding`: `UTF8` (Swift strings are UTF-8 whatever the database's encoding).
///
/// The session always starts with `DateStyle=ISO,YMD` and `TimeZone=UTC` (prepended to any
/// `options` given), because the text decoders of ``PostgresRow`` read ISO output; and with
/// `plan_cache_mode=force_custom_plan`, because the statement cache keeps statements parsed, not planned:
/// a generic plan made while a table was empty (a new database's first minutes) stays a sequential scan
/// as the table grows, until the next ANALYZE. Measured: lookups of 11 ms instead of 0.04 ms. SQL that
/// needs the Jakarta calendar must say so (`now() AT TIME ZONE 'Asia/Jakarta'`).
///
/// `description` is ``redacted``: the password (and any other secret keyword) never appears.
public struct PostgresConfiguration: Sendable, CustomStringConvertible, Equatable {
    /// One libpq connection keyword and its value.
    public struct Parameter: Sendable, Equatable {
        public var keyword: String
        public var value: String
    }

    public static let defaultApplicationName = "peduli-worker"
    public static let defaultConnectTimeoutSeconds = 10
    /// Prepended to the `options` keyword: the decoders rely on ISO dates.
    public static let sessionOptions = "-c DateStyle=ISO,YMD -c TimeZone=UTC -c plan_cache_mode=force_custom_plan"

    /// Distinct statements a session keeps parsed on the server (see
    /// ``PostgresConnection/query(_:_:)``); 0 turns the cache off, e.g. behind a pooler in transaction
    /// mode, where a session's prepared statements may be on another server connection. Default 256: far
    /// more than the few dozen statements the worker runs, a bound for SQL that is built at run time.
    public var statementCacheCapacity = 256

    /// The server's bound on each statement of the session (`statement_timeout`), so a lock wait or a
    /// runaway query fails instead of stalling a worker thread for ever; nil leaves the server's setting,
    /// 0 turns it off. An `options` keyword in the connection string that sets it wins.
    public var statementTimeoutMilliseconds: Int?

    /// Server settings (`name` → `value`) for every session opened with this configuration, for one
    /// kind of session that needs what the others must not have: the outbox relay commits its deletions
    /// with `synchronous_commit=off`, which would be wrong for the sessions that commit commands. Applied
    /// after the statement timeout and before the connection string's own `options`, so those still win;
    /// a session re-applies them after every reconnect. Default: none.
    public var sessionSettings: [String: String] = [:]

    /// The keywords that were set (given or defaulted), in libpq's order.
    public private(set) var parameters: [Parameter]
    /// Keywords libpq marks as secret (`password`, `sslpassword`): left out of ``redacted``.
    private let secretKeywords: Set<String>

    /// - Throws: ``PostgresError`` with code `invalidConfiguration` when libpq cannot parse
    ///   the string. The message names the problem but never echoes the string (it may hold
    ///   a password).
    public init(
        _ connectionString: String,
        applicationName: String = PostgresConfiguration.defaultApplicationName,
        connectTimeoutSeconds: Int = PostgresConfiguration.defaultConnectTimeoutSeconds
    ) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let libpqMessage = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(
                code: .invalidConfiguration, operation: "configure",
                message: "invalid PostgreSQL connection string: \(Self.withoutQuotedFragments(libpqMessage))")
        }
        defer { PQconninfoFree(options) }
        var parameters: [Parameter] = []
        var secrets: Set<String> = ["password", "sslpassword"]
        var index = 0
        while let keywordPointer = options[index].keyword {
            let option = options[index]
            index += 1
            let keyword = String(cString: keywordPointer)
            if let dispchar = option.dispchar, String(cString: dispchar).hasPrefix("*") {
                secrets.insert(keyword)
            }
            guard let value = option.val else { continue }
            parameters.append(Parameter(keyword: keyword, value: String(cString: value)))
        }
        self.parameters = parameters
        self.secretKeywords = secrets
        if self["application_name"] == nil { set("application_name", applicationName) }
        if self["connect_timeout"] == nil { set("connect_timeout", String(connectTimeoutSeconds)) }
        if self["client_encoding"] == nil { set("client_encoding", "UTF8") }
    }

    /// The value of a keyword, if set (`host`, `port`, `dbname`, `user`, `sslmode`, ...).
    public subscript(keyword: String) -> String? {
        parameters.first { $0.keyword == keyword }?.value
    }

    /// A `key=value` connection string with every secret replaced by `***`: safe to log.
    public var redacted: String {
        parameters.map { parameter in
            let value = secretKeywords.contains(parameter.keyword) ? "***" : parameter.value
            return "\(parameter.keyword)=\(Self.quoted(value))"
        }.joined(separator: " ")
    }

    public var description: String { redacted }

    /// Keywords and values handed to `PQconnectdbParams`, with the session options added.
    var connectionParameters: [Parameter] {
        var result = parameters.filter { $0.keyword != "options" }
        let userOptions = self["options"].map { " " + $0 } ?? ""
        let timeout = statementTimeoutMilliseconds.map { [("statement_timeout", "\(max(0, $0))")] } ?? []
        let settings = (timeout + sessionSettings.sorted { $0.key < $1.key }).map { name, value in
            " -c " + Self.escapedOption(name) + "=" + Self.escapedOption(value)
        }.joined()
        result.append(Parameter(keyword: "options", value: Self.sessionOptions + settings + userOptions))
        return result
    }

    /// libpq splits `options` at spaces; a backslash keeps the next character (space or backslash) literal.
    private static func escapedOption(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == " " || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    private mutating func set(_ keyword: String, _ value: String) {
        if let index = parameters.firstIndex(where: { $0.keyword == keyword }) {
            parameters[index].value = value
        } else {
            parameters.append(Parameter(keyword: keyword, value: value))
        }
    }

    /// libpq's conninfo quoting: single quotes when the value is empty or has blanks, quotes or backslashes.
    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "'" || $0 == "\\" || $0.isWhitespace }
        guard needsQuotes else { return value }
        var out = "'"
        for ch in value {
            if ch == "'" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "'"
    }

    /// libpq quotes the offending fragment of a bad string (which may be part of a password). One is kept:
    /// the name of an unknown URI query parameter (`invalid URI query parameter: "bogus"`), when it is a
    /// plain keyword, which is what an operator needs to fix it.
    static func withoutQuotedFragments(_ message: String) -> String {
        let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
        let unknownParameter = "invalid URI query parameter: \""
        if firstLine.hasPrefix(unknownParameter), firstLine.hasSuffix("\"") {
            let name = firstLine.dropFirst(unknownParameter.count).dropLast()
            if (1...40).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_") }) {
                return firstLine
            }
        }
        var out = ""
        var inQuote = false
        for ch in firstLine {
            if ch == "\"" {
                inQuote.toggle()
                if !inQuote { out += "\"…\"" }
            } else if !inQuote {
                out.append(ch)
            }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }
}
