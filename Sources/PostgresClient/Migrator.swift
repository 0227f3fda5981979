import Foundation
import Logging

/// One schema change. The SQL lives in the Swift source as a string literal, so an installed
/// binary carries its schema with it and needs no resource bundle.
///
/// The SQL runs inside a transaction with the simple query protocol: several statements are
/// fine, but no `BEGIN`/`COMMIT` of its own and nothing that cannot run in a transaction
/// (`CREATE INDEX CONCURRENTLY`, `VACUUM`). Once applied anywhere, a migration's SQL must never
/// change (its checksum is recorded and checked); add a new migration instead.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String
    /// Work in Swift that must run before the SQL, under the migration lock, in transactions of its own: a data
    /// step the SQL depends on (encrypting plain rows before the plain columns are dropped). It must be safe to
    /// run again after an interruption. It is not part of the checksum.
    public let prepare: (@Sendable (PostgresConnection) throws -> Void)?

    public init(
        version: Int, name: String, sql: String, prepare: (@Sendable (PostgresConnection) throws -> Void)? = nil
    ) {
        self.version = version
        self.name = name
        self.sql = sql
        self.prepare = prepare
    }

    public static func == (a: Migration, b: Migration) -> Bool {
        a.version == b.version && a.name == b.name && a.sql == b.sql
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        hasher.combine(name)
        hasher.combine(sql)
    }

    /// FNV-1a (64 bit) of the SQL's UTF-8 bytes, in hex: detects edits, not tampering.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// What ``Migrator/migrate(_:)`` did.
public struct MigrationReport: Sendable, Equatable {
    /// Versions this run applied, in order.
    public var applied: [Int]
    /// Versions that were already applied before this run.
    public var alreadyApplied: [Int]

    public init(applied: [Int], alreadyApplied: [Int]) {
        self.applied = applied
        self.alreadyApplied = alreadyApplied
    }
}

/// A row of the `schema_migrations` table.
public struct AppliedMigration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var checksum: String
    public var appliedAt: Date

    public init(version: Int, name: String, checksum: String, appliedAt: Date) {
        self.version = version
        self.name = name
        self.checksum = checksum
        self.appliedAt = appliedAt
    }
}

/// Brings a database schema up to date with a list of ``Migration``s.
///
/// Safe to run twice (the second run does nothing) and from several hosts at once: every run
/// holds a session advisory lock (`pg_advisory_lock(lockKey)`) while it reads and applies, so
/// concurrent runs queue up and the later ones find nothing to do. Each migration is applied
/// in its own transaction together with its row in `schema_migrations` (version, name,
/// checksum, applied_at), so a failed migration leaves no trace and can be fixed and re-run.
///
/// It refuses (``PostgresError`` code `migration`) when an applied migration's SQL has changed,
/// when the database has a version this build does not know (a newer build migrated it), or
/// when a pending version is older than an applied one.
public struct Migrator: Sendable {
    /// "peduli" in ASCII plus 1: the key of the session advisory lock all migrators share.
    public static let defaultLockKey: Int64 = 0x7065_6475_6c69_0001
    public static let tableName = "schema_migrations"

    /// Sorted by version.
    public let migrations: [Migration]
    /// When set, the migrations and `schema_migrations` live in this schema (created if needed)
    /// instead of the connection's `search_path`.
    public let schema: String?
    public let lockKey: Int64
    private let logger: Logger

    /// - Throws: ``PostgresError`` `migration` for a list with duplicate or non-positive
    ///   versions or empty names.
    public init(
        migrations: [Migration], schema: String? = nil, lockKey: Int64 = Migrator.defaultLockKey,
        logger: Logger = Logger(label: "peduli.postgres.migrate")
    ) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (index, migration) in sorted.enumerated() {
            guard migration.version > 0 else {
                throw Self.error("migration version \(migration.version) must be positive")
            }
            guard !migration.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Self.error("migration \(migration.version) has no name")
            }
            if index > 0, sorted[index - 1].version == migration.version {
                throw Self.error("migration version \(migration.version) appears twice")
            }
        }
        self.migrations = sorted
        self.schema = schema
        self.lockKey = lockKey
        self.logger = logger
    }

    private var qualifiedTable: String {
        (schema.map { PostgresText.quoteIdentifier($0) + "." } ?? "") + Self.tableName
    }

    /// Applies every pending migration in version order.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws -> MigrationReport {
        // Waiting for another migrator, or building an index on a large table, may take longer than the
        // session's statement timeout, which is meant for the daemon's own statements.
        try connection.execute(simple: "SET statement_timeout = 0")
        defer { if connection.isAlive { _ = try? connection.execute(simple: "RESET statement_timeout") } }
        try connection.advisoryLock(lockKey)
        defer {
            if connection.isAlive { try? connection.advisoryUnlock(lockKey) }
        }
        if let schema {
            try connection.execute(simple: "CREATE SCHEMA IF NOT EXISTS " + PostgresText.quoteIdentifier(schema))
        }
        try connection.execute(
            simple: """
                CREATE TABLE IF NOT EXISTS \(qualifiedTable) (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        let applied = try readApplied(connection)
        let pending = try plan(applied: applied)
        var report = MigrationReport(applied: [], alreadyApplied: applied.map(\.version))
        for migration in pending {
            if let prepare = migration.prepare {
                // The data step sees the same tables as the SQL: the migrator's schema first, then the caller's
                // search path restored.
                let saved = try connection.query("SELECT current_setting('search_path') AS p")[0].string("p")
                if let schema {
                    try connection.execute(simple: "SET search_path TO \(PostgresText.quoteIdentifier(schema)), public")
                }
                defer {
                    if schema != nil, connection.isAlive {
                        _ = try? connection.query("SELECT set_config('search_path', $1, false)", [saved])
                    }
                }
                try prepare(connection)
            }
            try connection.transaction { connection in
                if let schema {
                    try connection.execute(
                        simple: "SET LOCAL search_path TO \(PostgresText.quoteIdentifier(schema)), public")
                }
                try connection.execute(simple: migration.sql)
                try connection.execute(
                    "INSERT INTO \(qualifiedTable) (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, migration.checksum])
            }
            report.applied.append(migration.version)
            logger.info(
                "applied migration",
                metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        }
        return report
    }

    /// The migrations recorded in the database (empty when the table does not exist yet).
    public func appliedMigrations(_ connection: PostgresConnection) throws -> [AppliedMigration] {
        let exists = try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [qualifiedTable])
        guard try exists.first?.bool("present") == true else { return [] }
        return try readApplied(connection)
    }

    /// Migrations not applied yet (without taking the lock: for `check`/status output).
    public func pendingMigrations(_ connection: PostgresConnection) throws -> [Migration] {
        try plan(applied: appliedMigrations(connection))
    }

    private func readApplied(_ connection: PostgresConnection) throws -> [AppliedMigration] {
        try connection.query("SELECT version, name, checksum, applied_at FROM \(qualifiedTable) ORDER BY version")
            .map { row in
                AppliedMigration(
                    version: try row.int("version"), name: try row.string("name"),
                    checksum: try row.string("checksum"), appliedAt: try row.timestamp("applied_at"))
            }
    }

    /// The pending migrations, after checking the applied ones agree with this build. Pure.
    public func plan(applied: [AppliedMigration]) throws -> [Migration] {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for row in applied {
            guard let migration = known[row.version] else {
                throw Self.error(
                    "the database has migration \(row.version) (\(row.name)) that this build does not know; "
                        + "it was migrated by a newer build")
            }
            guard migration.checksum == row.checksum else {
                throw Self.error(
                    "migration \(row.version) (\(migration.name)) was changed after it was applied "
                        + "(checksum \(migration.checksum), applied \(row.checksum)); add a new migration instead")
            }
        }
        let appliedVersions = Set(applied.map(\.version))
        let pending = migrations.filter { !appliedVersions.contains($0.version) }
        if let newestApplied = appliedVersions.max(), let first = pending.first, first.version < newestApplied {
            throw Self.error(
                "migration \(first.version) (\(first.name)) is pending but the newer migration \(newestApplied) "
                    + "is already applied; versions must only grow")
        }
        return pending
    }

    private static func error(_ message: String) -> PostgresError {
        PostgresError(code: .migration, operation: "migrate", message: message)
    }
}

/// A small migration list used by this module's tests (the real schema belongs to the
/// pipeline module, which passes its own list).
public enum ExampleMigrations {
    public static let all: [Migration] = [
        Migration(
            version: 1, name: "create_example_accounts",
            sql: """
                CREATE TABLE example_accounts (
                    id bigserial PRIMARY KEY,
                    code text NOT NULL UNIQUE,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                """),
        Migration(
            version: 2, name: "add_example_accounts_active",
            sql: "ALTER TABLE example_accounts ADD COLUMN active boolean NOT NULL DEFAULT true;"),
        Migration(
            version: 3, name: "create_example_payments",
            sql: """
                CREATE TABLE example_payments (
                    id bigserial PRIMARY KEY,
                    account_id bigint NOT NULL REFERENCES example_accounts (id),
                    paid_on date NOT NULL,
                    amount bigint NOT NULL CHECK (amount > 0)
                );
                CREATE INDEX example_payments_account ON example_payments (account_id, paid_on);
                """),
    ]
}
