import Foundation
import PeduliTestSupport
import PostgresClient
import Testing

/// The migrator against the real server; each test migrates its own schema.
@Suite struct MigratorIntegrationTests {
    typealias Support = PostgresTestSupport

    static func dropSchema(_ schema: String) throws {
        let connection = try Support.connect()
        try connection.execute(simple: "DROP SCHEMA IF EXISTS \(PostgresText.quoteIdentifier(schema)) CASCADE")
    }

    @Test func appliesInOrderAndSecondRunIsANoOp() async throws {
        let schema = Support.uniqueName("mig")
        try await onOwnThread {
            defer { try? Self.dropSchema(schema) }
            let connection = try Support.connect()
            let migrator = try Migrator(migrations: ExampleMigrations.all.reversed(), schema: schema)
            #expect(try migrator.pendingMigrations(connection).map(\.version) == [1, 2, 3])
            let first = try migrator.migrate(connection)
            #expect(first == MigrationReport(applied: [1, 2, 3], alreadyApplied: []))
            let second = try migrator.migrate(connection)
            #expect(second == MigrationReport(applied: [], alreadyApplied: [1, 2, 3]))
            #expect(try migrator.pendingMigrations(connection).isEmpty)
            let applied = try migrator.appliedMigrations(connection)
            #expect(applied.map(\.version) == [1, 2, 3])
            #expect(applied.map(\.checksum) == ExampleMigrations.all.map(\.checksum))
            #expect(applied.map(\.name) == ExampleMigrations.all.map(\.name))
            // The tables landed in the schema and work.
            try connection.execute("INSERT INTO \(schema).example_accounts (code) VALUES ($1)", ["A-1"])
            #expect(try connection.query("SELECT active FROM \(schema).example_accounts").first?.bool("active") == true)
        }
    }

    /// The daemon's statement timeout bounds its own statements, not a migration (an index on a large table).
    @Test func aSlowMigrationOutlastsTheSessionStatementTimeout() async throws {
        let schema = Support.uniqueName("mig_slow")
        try await onOwnThread {
            defer { try? Self.dropSchema(schema) }
            var configuration = try Support.configuration()
            configuration.statementTimeoutMilliseconds = 200
            let connection = try PostgresConnection(configuration: configuration)
            let timedOut = try #require(throws: PostgresError.self) { try connection.query("SELECT pg_sleep(0.5)") }
            #expect(timedOut.sqlState == "57014")
            let slow = Migration(
                version: 1, name: "slow", sql: "SELECT pg_sleep(0.5); CREATE TABLE slow_done (id int);")
            let migrator = try Migrator(migrations: [slow], schema: schema)
            #expect(try migrator.migrate(connection).applied == [1])
            // Afterwards the session's own bound is back.
            #expect(
                try connection.query("SELECT current_setting('statement_timeout') AS t").first?.string("t")
                    == "200ms")
        }
    }

    @Test func concurrentAppliersEndWithOneAppliedSet() async throws {
        let schema = Support.uniqueName("mig_race")
        let rendezvous = PostgresTestRendezvous()
        @Sendable func apply(asFirst: Bool) throws -> MigrationReport {
            let connection = try Support.connect()
            let migrator = try Migrator(migrations: ExampleMigrations.all, schema: schema)
            _ = rendezvous.arrive(asFirst: asFirst)
            return try migrator.migrate(connection)
        }
        async let a = onOwnThread { try apply(asFirst: true) }
        async let b = onOwnThread { try apply(asFirst: false) }
        let reports = try await [a, b]
        try await onOwnThread {
            defer { try? Self.dropSchema(schema) }
            #expect((reports[0].applied + reports[1].applied).sorted() == [1, 2, 3])
            #expect(Set(reports[0].applied).isDisjoint(with: reports[1].applied))
            let connection = try Support.connect()
            let rows = try connection.query("SELECT version FROM \(schema).schema_migrations ORDER BY version")
            #expect(try rows.map { try $0.int("version") } == [1, 2, 3])
        }
    }

    @Test func refusesAChangedMigration() async throws {
        let schema = Support.uniqueName("mig_edit")
        try await onOwnThread {
            defer { try? Self.dropSchema(schema) }
            let connection = try Support.connect()
            try Migrator(migrations: ExampleMigrations.all, schema: schema).migrate(connection)
            var edited = ExampleMigrations.all
            edited[1] = Migration(version: 2, name: edited[1].name, sql: edited[1].sql + " -- edited")
            edited.append(Migration(version: 4, name: "later", sql: "CREATE TABLE later (id int);"))
            let error = try #require(throws: PostgresError.self) {
                try Migrator(migrations: edited, schema: schema).migrate(connection)
            }
            #expect(error.code == .migration)
            #expect(error.message.contains("migration 2"))
            #expect(
                try connection.query("SELECT to_regclass($1) IS NULL AS absent", ["\(schema).later"]).first?.bool(
                    "absent") == true)
        }
    }

    @Test func failedMigrationLeavesNoTraceAndCanBeFixed() async throws {
        let schema = Support.uniqueName("mig_fail")
        try await onOwnThread {
            defer { try? Self.dropSchema(schema) }
            let connection = try Support.connect()
            // A private lock key, so a migrator test running in parallel cannot hold it.
            let lockKey = Int64.random(in: 1...Int64.max)
            let broken =
                ExampleMigrations.all + [
                    Migration(version: 4, name: "broken", sql: "CREATE TABLE half (id int); SELECT no_such_function();")
                ]
            let error = try #require(throws: PostgresError.self) {
                try Migrator(migrations: broken, schema: schema, lockKey: lockKey).migrate(connection)
            }
            #expect(error.code == .server)
            let migrator = try Migrator(
                migrations: ExampleMigrations.all + [
                    Migration(version: 4, name: "fixed", sql: "CREATE TABLE half (id int);")
                ], schema: schema, lockKey: lockKey)
            #expect(try migrator.appliedMigrations(connection).map(\.version) == [1, 2, 3])
            #expect(try migrator.migrate(connection).applied == [4])
            // The advisory lock was released: another session can take it at once.
            let other = try Support.connect()
            #expect(try other.query("SELECT pg_try_advisory_lock($1) AS got", [lockKey]).first?.bool("got") == true)
        }
    }
}
