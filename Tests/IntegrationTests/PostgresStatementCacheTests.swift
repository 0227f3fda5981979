import Foundation
import PeduliTestSupport
import PostgresClient
import Testing

/// The session's statement cache: parsed once per session, planned at every execution.
@Suite struct PostgresStatementCacheTests {
    typealias Support = PostgresTestSupport

    /// How many statements this session holds prepared by the cache for `sql` (or in all, when nil).
    private static func cached(_ connection: PostgresConnection, _ sql: String? = nil) throws -> Int {
        let rows = try connection.execute(
            simple: "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'cached_statement_%'")
        return try rows.filter { row in try sql == nil || row.string("statement") == sql }.count
    }

    @Test func aRepeatedStatementIsPreparedOnceForQueriesAndPipelines() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let sql = "SELECT $1::int + 1 AS n"
            for value in [1, 41, -5] {
                #expect(try connection.query(sql, [value]).first?.int("n") == value + 1)
            }
            let results = try connection.pipeline([PostgresStatement(sql, [9]), PostgresStatement(sql, [99])])
            #expect(try results.map { try $0.first?.int("n") } == [10, 100])
            #expect(try Self.cached(connection, sql) == 1)
            // NULL is sent untyped, as integers are: the same statement. A typed value makes another one.
            #expect(try connection.query(sql, [nil]).first?.isNull("n") == true)
            #expect(try Self.cached(connection, sql) == 1)
            #expect(try connection.query("SELECT $1 AS b", [true]).first?.bool("b") == true)
            #expect(try connection.query("SELECT $1 AS b", ["t"]).first?.string("b") == "t")
            #expect(try Self.cached(connection, "SELECT $1 AS b") == 2)
        }
    }

    @Test func capacityBoundsTheCacheAndZeroTurnsItOff() async throws {
        try await onOwnThread {
            for capacity in [0, 2] {
                var configuration = try Support.configuration()
                configuration.statementCacheCapacity = capacity
                let connection = try PostgresConnection(configuration: configuration)
                for k in 1...4 {
                    #expect(try connection.query("SELECT $1::int * \(k) AS n", [10]).first?.int("n") == 10 * k)
                    #expect(
                        try connection.pipeline([PostgresStatement("SELECT \(k) + $1::int AS n", [1])])[0]
                            .first?.int("n") == k + 1)
                }
                #expect(try Self.cached(connection) == capacity)
            }
        }
    }

    @Test func aNewSessionStartsAnEmptyCache() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let sql = "SELECT upper($1::text) AS s"
            #expect(try connection.query(sql, ["semarang"]).first?.string("s") == "SEMARANG")
            try connection.reconnect()
            #expect(try Self.cached(connection) == 0)
            #expect(try connection.query(sql, ["tugu"]).first?.string("s") == "TUGU")
            #expect(try Self.cached(connection, sql) == 1)
        }
    }

    @Test func aStatementThatCannotBePreparedFailsItsPipelineBeforeAnythingRuns() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            try Support.withTable("pg_cache_err", columns: "id int PRIMARY KEY", on: connection) { table in
                let statements = [
                    PostgresStatement("INSERT INTO \(table) (id) VALUES ($1)", [1]),
                    PostgresStatement("INSERT INTO \(table) (id) VALUES ($1)", [2]),
                    PostgresStatement("SELECT no_such_column FROM \(table) WHERE id = $1", [1]),
                ]
                let error = try #require(throws: PostgresError.self) { try connection.pipeline(statements) }
                #expect(error.statementIndex == 2)
                #expect(error.operation == "pipeline")
                #expect(try connection.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 0)
                #expect(connection.isAlive)
                #expect(try connection.pipeline(Array(statements.prefix(2))).count == 2)
            }
        }
    }

    /// A statement first run while its table was empty must not keep that plan: on the first day of the
    /// programme (or a fresh database) every table starts empty.
    @Test func aStatementCachedOnAnEmptyTableUsesTheIndexOnceTheTableHasGrown() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            #expect(
                try connection.query("SELECT current_setting('plan_cache_mode') AS m").first?.string("m")
                    == "force_custom_plan")
            try Support.withTable("pg_cache_plan", columns: "key text PRIMARY KEY, value int", on: connection) {
                table in
                let sql = "SELECT key, value FROM \(table) WHERE key = ANY($1::text[])"
                for _ in 0..<8 { #expect(try connection.query(sql, [PostgresArrayText.text(["a", "b"])]).isEmpty) }
                try connection.execute(
                    simple: "INSERT INTO \(table) SELECT 'k' || g, g FROM generate_series(1, 50000) AS g")
                let rows = try connection.query(sql, [PostgresArrayText.text(["k7", "k49999", "none"])])
                #expect(try rows.map { try $0.int("value") }.sorted() == [7, 49999])
                let name = try #require(
                    try connection.execute(
                        simple: "SELECT name FROM pg_prepared_statements WHERE statement = '\(sql)'"
                    ).first?.string("name"))
                let plan = try connection.execute(simple: "EXPLAIN EXECUTE \(name)('{k7}')")
                    .map { try $0.string("QUERY PLAN") }.joined(separator: "\n")
                #expect(plan.contains("Index"), "\(plan)")
                #expect(!plan.contains("Seq Scan"), "\(plan)")
            }
        }
    }
}

/// A text[] literal for a parameter, as the worker's arrays are sent.
private enum PostgresArrayText {
    static func text(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0 + "\"" }.joined(separator: ",") + "}"
    }
}
