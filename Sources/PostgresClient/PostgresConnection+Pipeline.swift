internal import CLibPQ
import Foundation

extension PostgresConnection {
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

    func readPipelineResults(_ handle: OpaquePointer, count: Int) throws -> [PostgresResult] {
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
}
