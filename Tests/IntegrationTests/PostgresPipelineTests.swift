import Foundation
import PeduliTestSupport
import PostgresClient
import Testing

/// Pipeline mode: many statements, one Sync, one implicit transaction.
@Suite struct PostgresPipelineTests {
    typealias Support = PostgresTestSupport

    @Test func thousandInsertsShareOneTransaction() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            try Support.withTable(
                "pg_pipe", columns: "id int PRIMARY KEY, xid bigint NOT NULL, note text", on: connection
            ) { table in
                let statements = (0..<1000).map { id in
                    PostgresStatement(
                        "INSERT INTO \(table) (id, xid, note) VALUES ($1, txid_current(), $2)",
                        [id, id % 7 == 0 ? nil : "n\(id)"])
                }
                let results = try connection.pipeline(statements)
                #expect(results.count == 1000)
                #expect(results.allSatisfy { $0.affectedRows == 1 && $0.commandTag == "INSERT 0 1" })
                let summary = try #require(
                    try connection.query(
                        "SELECT count(*) AS n, count(DISTINCT xid) AS xids, count(note) AS notes FROM \(table)"
                    ).first)
                #expect(try summary.int("n") == 1000)
                // Autocommitted round trips would each get their own transaction id.
                #expect(try summary.int("xids") == 1)
                #expect(try summary.int("notes") == 1000 - 143)
                // The connection is back in normal mode.
                #expect(try connection.query("SELECT 2 AS two").first?.int("two") == 2)
            }
        }
    }

    @Test func returnsRowsPerStatement() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let results = try connection.pipeline([
                PostgresStatement("SELECT $1::int + 1 AS n", [1]),
                PostgresStatement("SELECT generate_series(1, $1::int) AS n", [3]),
                PostgresStatement("SELECT $1::text AS s", [nil]),
            ])
            #expect(try results[0].first?.int("n") == 2)
            #expect(try results[1].map { try $0.int("n") } == [1, 2, 3])
            #expect(try results[2].first?.isNull("s") == true)
            #expect(try connection.pipeline([]).isEmpty)
        }
    }

    @Test func errorAbortsTheBatchAndNamesTheStatement() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            try Support.withTable("pg_pipe_err", columns: "id int PRIMARY KEY", on: connection) { table in
                var statements = (0..<10).map { PostgresStatement("INSERT INTO \(table) (id) VALUES ($1)", [$0]) }
                statements[6] = PostgresStatement("INSERT INTO \(table) (id) VALUES ($1)", [3])
                let error = try #require(throws: PostgresError.self) { try connection.pipeline(statements) }
                #expect(error.statementIndex == 6)
                #expect(error.category == .duplicate)
                #expect(error.operation == "pipeline")
                // All or nothing: the statements before the failure were rolled back too.
                #expect(try connection.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 0)
                #expect(connection.isAlive)
                // A bad parameter is caught before anything is sent.
                statements[6] = PostgresStatement("INSERT INTO \(table) (id) VALUES ($1::int)", ["6\u{0}"])
                let refused = try #require(throws: PostgresError.self) { try connection.pipeline(statements) }
                #expect(refused.code == .invalidParameter)
                #expect(refused.statementIndex == 6)
                #expect(try connection.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 0)
                statements[6] = PostgresStatement("INSERT INTO \(table) (id) VALUES ($1)", [6])
                #expect(try connection.pipeline(statements).count == 10)
                #expect(try connection.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 10)
            }
        }
    }

    @Test func pipelineOnADeadSessionHasUnknownOutcomeThenRecovers() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let admin = try Support.connect()
            try Support.withTable("pg_pipe_dead", columns: "id int", on: admin) { table in
                let statements = (0..<3).map { PostgresStatement("INSERT INTO \(table) VALUES ($1)", [$0]) }
                // Once prepared by the statement cache, the statements themselves reach the dead session.
                #expect(try connection.pipeline(statements).count == 3)
                _ = try admin.query("SELECT pg_terminate_backend($1, 5000)", [connection.backendProcessID])
                let error = try #require(throws: PostgresError.self) { try connection.pipeline(statements) }
                #expect(error.category == .connectionLost)
                #expect(error.commitOutcomeUnknown)
                #expect(try connection.pipeline(statements).count == 3)
                #expect(try admin.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 6)

                // A statement new to the session dies while being prepared: nothing ran, and the error says so.
                _ = try admin.query("SELECT pg_terminate_backend($1, 5000)", [connection.backendProcessID])
                let unprepared = try #require(throws: PostgresError.self) {
                    try connection.pipeline([PostgresStatement("INSERT INTO \(table) VALUES ($1 + 100)", [1])])
                }
                #expect(unprepared.category == .connectionLost)
                #expect(!unprepared.commitOutcomeUnknown)
                #expect(try admin.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 6)
            }
        }
    }

    @Test func pipelineInsideTransactionRollsBackWithIt() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            try Support.withTable("pg_pipe_tx", columns: "id int", on: connection) { table throws in
                struct Abort: Error {}
                #expect(throws: Abort.self) {
                    try connection.transaction { connection in
                        _ = try connection.pipeline(
                            (0..<5).map { PostgresStatement("INSERT INTO \(table) VALUES ($1)", [$0]) })
                        throw Abort()
                    }
                }
                #expect(try connection.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 0)
            }
        }
    }
}
