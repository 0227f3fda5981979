import Logging
internal import PeduliBase
import PeduliPrivacy
import PostgresClient

/// The database side of `peduli-worker roster import` and `covered import`. The command validates the
/// whole file first; these write the already-valid rows in one transaction with one statement, so a file
/// is either imported entirely or not at all, and importing the same file twice changes nothing.
///
/// Rows present in the database but absent from the file are kept: a roster file may cover only some
/// units, and a sponsor leaves the programme by being re-imported with `active` false.
public enum Imports {
    /// One ASN of the roster, as validated by the command.
    public struct RosterEntry: Sendable, Equatable {
        public var nip: String
        public var name: String
        public var unit: String
        public var active: Bool
        public init(nip: String, name: String, unit: String, active: Bool) {
            self.nip = nip
            self.name = name
            self.unit = unit
            self.active = active
        }
    }

    /// One NIK funded by another scheme.
    public struct CoveredEntry: Sendable, Equatable {
        public var nik: String
        public var scheme: String
        public init(nik: String, scheme: String) {
            self.nik = nik
            self.scheme = scheme
        }
    }

    /// What an import did: new rows, rows whose values changed, and rows already as in the file.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var inserted: Int
        public var updated: Int
        public var unchanged: Int
        public init(inserted: Int, updated: Int, unchanged: Int) {
            self.inserted = inserted
            self.updated = updated
            self.unchanged = unchanged
        }
        public var description: String { "\(inserted) inserted, \(updated) updated, \(unchanged) unchanged" }
    }

    /// Inserts or updates the roster in one transaction.
    public static func roster(_ rows: [RosterEntry], database: PostgresConfiguration, logger: Logger) throws -> Summary
    {
        let db = try PostgresConnection(configuration: database, logger: logger)
        return try upsert(
            on: db, count: rows.count,
            sql: """
                INSERT INTO sponsors (nip, name, unit, active)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[])
                ON CONFLICT (nip) DO UPDATE
                    SET name = EXCLUDED.name, unit = EXCLUDED.unit, active = EXCLUDED.active, imported_at = now()
                    WHERE (sponsors.name, sponsors.unit, sponsors.active)
                        IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.unit, EXCLUDED.active)
                RETURNING (xmax = 0) AS inserted
                """,
            [
                PostgresArray.text(rows.map(\.nip)), PostgresArray.text(rows.map(\.name)),
                PostgresArray.text(rows.map(\.unit)), PostgresArray.bool(rows.map(\.active)),
            ])
    }

    /// Inserts or updates the other-schemes list in one transaction.
    /// NIKs are stored as their keyed hash only: the list is needed for the `covered_by_other_scheme` look-up,
    /// never to be read back.
    public static func covered(
        _ rows: [CoveredEntry], database: PostgresConfiguration, keys: DataKeys, logger: Logger
    ) throws -> Summary {
        // The hash hides the NIK from the database's own checks, so the format is checked here (the command
        // validated the file already; this guards every other caller), before anything is written.
        if let bad = rows.firstIndex(where: {
            $0.nik.utf8.count != 16 || !$0.nik.utf8.allSatisfy { (48...57).contains($0) }
        }) {
            throw WorkerError(
                code: .internalError, operation: "covered import", detail: "entry \(bad + 1): a NIK is not 16 digits")
        }
        let db = try PostgresConnection(configuration: database, logger: logger)
        return try upsert(
            on: db, count: rows.count,
            sql: """
                INSERT INTO covered_niks (nik_hash, scheme)
                SELECT decode(h, 'hex'), s FROM unnest($1::text[], $2::text[]) AS u(h, s)
                ON CONFLICT (nik_hash) DO UPDATE SET scheme = EXCLUDED.scheme, imported_at = now()
                    WHERE covered_niks.scheme IS DISTINCT FROM EXCLUDED.scheme
                RETURNING (xmax = 0) AS inserted
                """,
            [
                PostgresArray.text(rows.map { Hex.encode(keys.nikHash($0.nik)) }),
                PostgresArray.text(rows.map(\.scheme)),
            ])
    }

    /// The upsert returns only rows it wrote (`xmax = 0` marks a fresh insert); the rest were unchanged.
    private static func upsert(
        on db: PostgresConnection, count: Int, sql: String, _ parameters: [PostgresValue?]
    )
        throws -> Summary
    {
        guard count > 0 else { return Summary(inserted: 0, updated: 0, unchanged: 0) }
        let written = try db.transaction { tx in try tx.query(sql, parameters) }
        let inserted = try written.filter { try $0.bool("inserted") }.count
        return Summary(inserted: inserted, updated: written.count - inserted, unchanged: count - written.count)
    }
}
