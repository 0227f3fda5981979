internal import CLibPQ
import Foundation

extension PostgresConnection {
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

    func rollbackQuietly() {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return }
        if let result = PQexec(handle, "ROLLBACK") { PQclear(result) }
    }
}
