import Foundation
import Testing

@testable import PostgresClient

@Suite struct MigratorTests {
    let list = [
        Migration(version: 2, name: "two", sql: "SELECT 2"),
        Migration(version: 1, name: "one", sql: "SELECT 1"),
        Migration(version: 3, name: "three", sql: "SELECT 3"),
    ]

    func applied(_ migration: Migration, checksum: String? = nil) -> AppliedMigration {
        AppliedMigration(
            version: migration.version, name: migration.name, checksum: checksum ?? migration.checksum,
            appliedAt: Date())
    }

    @Test func sortsAndPlansPending() throws {
        let migrator = try Migrator(migrations: list)
        #expect(migrator.migrations.map(\.version) == [1, 2, 3])
        #expect(try migrator.plan(applied: []).map(\.version) == [1, 2, 3])
        #expect(try migrator.plan(applied: [applied(migrator.migrations[0])]).map(\.version) == [2, 3])
        #expect(try migrator.plan(applied: migrator.migrations.map { applied($0) }).isEmpty)
    }

    @Test func refusesChangedChecksum() throws {
        let migrator = try Migrator(migrations: list)
        let error = try #require(throws: PostgresError.self) {
            try migrator.plan(applied: [applied(migrator.migrations[0], checksum: "0000000000000000")])
        }
        #expect(error.code == .migration)
        #expect(error.message.contains("changed"))
    }

    @Test func refusesUnknownAppliedVersion() throws {
        let migrator = try Migrator(migrations: list)
        let future = AppliedMigration(version: 9, name: "future", checksum: "x", appliedAt: Date())
        #expect(throws: PostgresError.self) { try migrator.plan(applied: [future]) }
    }

    @Test func refusesPendingOlderThanApplied() throws {
        let migrator = try Migrator(migrations: list)
        #expect(throws: PostgresError.self) { try migrator.plan(applied: [applied(migrator.migrations[2])]) }
    }

    @Test(arguments: [
        [Migration(version: 1, name: "a", sql: ""), Migration(version: 1, name: "b", sql: "")],
        [Migration(version: 0, name: "zero", sql: "")],
        [Migration(version: 1, name: " ", sql: "")],
    ])
    func rejectsBadLists(migrations: [Migration]) {
        #expect(throws: PostgresError.self) { try Migrator(migrations: migrations) }
    }

    @Test func checksumIsStableAndSensitive() {
        let a = Migration(version: 1, name: "a", sql: "CREATE TABLE t (id int);")
        #expect(a.checksum == Migration(version: 1, name: "renamed", sql: "CREATE TABLE t (id int);").checksum)
        #expect(a.checksum != Migration(version: 1, name: "a", sql: "CREATE TABLE t (id bigint);").checksum)
        #expect(a.checksum.count == 16)
        // FNV-1a 64 of the empty string is the offset basis.
        #expect(Migration(version: 1, name: "e", sql: "").checksum == "cbf29ce484222325")
    }

    @Test func exampleListIsValid() throws {
        #expect(try Migrator(migrations: ExampleMigrations.all).migrations.count == 3)
    }
}
