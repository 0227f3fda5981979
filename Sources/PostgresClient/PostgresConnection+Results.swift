internal import CLibPQ
import Foundation

extension PostgresConnection {
    /// Turns a finished `PGresult` into a value or an error, and frees it. `mayCommit`: the
    /// statement ran in autocommit mode, so a lost connection leaves its outcome unknown.
    func check(_ result: OpaquePointer?, operation: String, mayCommit: Bool = false) throws -> PostgresResult {
        let implicitCommit = mayCommit && !insideTransaction && !serverTransactionOpen
        do {
            return try checkResult(result, operation: operation)
        } catch var error as PostgresError where implicitCommit && error.category == .connectionLost {
            error.commitOutcomeUnknown = true
            throw error
        }
    }

    func checkResult(_ result: OpaquePointer?, operation: String) throws -> PostgresResult {
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

    func serverError(_ result: OpaquePointer, operation: String) -> PostgresError {
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
}
