internal import CLibPQ
import Foundation

extension PostgresConnection {
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
    func cachedStatement(
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

    struct StatementKey: Hashable {
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

    func prepareOnServer(
        _ handle: OpaquePointer, name: String, sql: String, types: [UInt32] = [], operation: String = "prepare"
    ) throws {
        let result = types.withUnsafeBufferPointer { types in
            PQprepare(handle, name, sql, Int32(types.count), types.baseAddress)
        }
        _ = try check(result, operation: operation)
    }

    /// Swift strings may hold NUL; C strings end there, so libpq would silently run a prefix.
    static func checkSQL(_ sql: String, operation: String) throws {
        if sql.utf8.contains(0) {
            throw PostgresError.misuse(operation, "the SQL text contains a NUL character")
        }
    }
}
