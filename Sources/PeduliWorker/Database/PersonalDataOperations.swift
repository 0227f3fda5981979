import Foundation
internal import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PostgresClient

/// What the operator asks of the personal data held (docs/operations.md, "Personal data"): show a subject's
/// data and processing record, erase it, erase after retention, re-encrypt under the current key. Every one of
/// them appends to `personal_data_audit` in the same transaction as what it did, so the trail and the act
/// cannot disagree.
public struct PersonalDataOperations: Sendable {
    let keys: DataKeys
    /// Who acts: `--operator NAME` or the operating-system user.
    let operatorName: String

    public init(keys: DataKeys, operatorName: String) {
        self.keys = keys
        self.operatorName = operatorName
    }

    /// One registration of the subject, decrypted.
    public struct HeldRegistration: Sendable, Equatable {
        public var registrationID: UUID
        public var acceptedAt: Date
        public var endedAt: Date?
        public var erasedAt: Date?
        public var nik: String?
        public var name: String?
        public var birthDate: String?
        public var phone: String?
        public var address: String?
        public var sponsorNIP: String
        public var kecamatan: String
        public var occupation: String
        public var paidThrough: String?
    }

    /// One processed command about the subject.
    public struct ProcessingEntry: Sendable, Equatable {
        public var at: Date
        public var command: String
        public var key: String
        public var outcome: String
        public var reasons: [String]
        /// The event the outcome sent (`registration.accepted`, ...), nil when none was recorded.
        public var event: String?
    }

    public struct Subject: Sendable, Equatable {
        public var registrations: [HeldRegistration]
        public var record: [ProcessingEntry]
    }

    /// What is held on a NIK, for the operator's eyes. Recorded in the audit trail.
    public func show(nik: String, on db: PostgresConnection) throws -> Subject {
        try db.transaction { db in
            let hash = keys.nikHash(nik)
            let rows = try db.query(
                """
                SELECT registration_id, accepted_at, ended_at, erased_at, nik_sealed, name_sealed, birth_date_sealed,
                    phone_sealed, address_sealed, sponsor_nip, kecamatan, occupation, paid_through::text AS paid
                FROM registrations WHERE nik_hash = $1 OR erased_hash = $1 ORDER BY accepted_at
                """, [hash])
            var held: [HeldRegistration] = []
            for row in rows {
                let id = try row.uuid("registration_id")
                func open(_ column: String, _ place: String) throws -> String? {
                    guard let sealed = try row.optionalBytes(column) else { return nil }
                    return try keys.openText(sealed, context: SealedPlace.registration(id, place))
                }
                held.append(
                    HeldRegistration(
                        registrationID: id, acceptedAt: try row.timestamp("accepted_at"),
                        endedAt: try row.isNull("ended_at") ? nil : try row.timestamp("ended_at"),
                        erasedAt: try row.isNull("erased_at") ? nil : try row.timestamp("erased_at"),
                        nik: try open("nik_sealed", "nik"), name: try open("name_sealed", "worker_name"),
                        birthDate: try open("birth_date_sealed", "birth_date"),
                        phone: try open("phone_sealed", "phone"),
                        address: try open("address_sealed", "address"), sponsorNIP: try row.string("sponsor_nip"),
                        kecamatan: try row.string("kecamatan"), occupation: try row.string("occupation"),
                        paidThrough: try row.optionalString("paid")))
            }
            let ids = held.map(\.registrationID.canonicalString)
            let record = try db.query(
                """
                SELECT l.processed_at, l.command, l.command_key, l.outcome,
                    array_to_string(l.reason_codes, ',') AS reasons, o.event_type
                FROM processing_log l
                LEFT JOIN command_outcomes o ON o.kind = l.command AND o.command_key = l.command_key
                WHERE l.command_key = ANY($1::text[])
                   OR l.command_key IN (SELECT payment_id FROM payments WHERE registration_id = ANY($1::uuid[]))
                ORDER BY l.processed_at, l.id
                """, [PostgresArray.text(ids)])
            let entries = try record.map { row in
                ProcessingEntry(
                    at: try row.timestamp("processed_at"), command: try row.optionalString("command") ?? "-",
                    key: try row.optionalString("command_key") ?? "-", outcome: try row.string("outcome"),
                    reasons: try row.string("reasons").split(separator: ",").map(String.init),
                    event: try row.optionalString("event_type"))
            }
            try audit("subject_show", subject: hash, detail: "\(held.count) registration(s)", on: db)
            return Subject(registrations: held, record: entries)
        }
    }

    /// Removes the personal data of the NIK's registrations, keeping what the report counts (the row, its
    /// sponsor, kecamatan, occupation, months paid). The hash goes too, so a later registration of the NIK is a
    /// new one; `erased_hash` keeps the link for `show` and the trail. Returns how many registrations.
    public func erase(nik: String, reason: String, on db: PostgresConnection) throws -> Int {
        try db.transaction { db in
            let hash = keys.nikHash(nik)
            let erased = try eraseRows("nik_hash = $1", [hash], on: db)
            try audit("subject_erase", subject: hash, detail: "\(erased) registration(s): \(reason)", on: db)
            return erased
        }
    }

    /// Erases registrations that ended more than `months` months ago (`privacy.retention_months`).
    public func eraseAfterRetention(months: Int, on db: PostgresConnection) throws -> Int {
        try db.transaction { db in
            let erased = try eraseRows(
                "ended_at IS NOT NULL AND ended_at < now() - make_interval(months => $1)", [months], on: db)
            if erased > 0 {
                try audit(
                    "retention_erase", subject: nil, detail: "\(erased) registration(s), \(months) months", on: db)
            }
            return erased
        }
    }

    private func eraseRows(_ condition: String, _ parameters: [PostgresValue?], on db: PostgresConnection) throws -> Int
    {
        let rows = try db.query(
            """
            UPDATE registrations SET erased_hash = nik_hash, nik_hash = NULL, nik_sealed = NULL, name_sealed = NULL,
                birth_date_sealed = NULL, phone_sealed = NULL, address_sealed = NULL, erased_at = now()
            WHERE \(condition) AND erased_at IS NULL
            RETURNING registration_id
            """, parameters)
        // The decided event of each such registration names the worker: kept for replays, without the name.
        for row in rows {
            let id = try row.uuid("registration_id")
            let command = CommandKey(kind: .registration, key: id.canonicalString)
            let place = SealedPlace.outcome(command)
            let stored = try db.query(
                "SELECT event_body_sealed FROM command_outcomes WHERE kind = 'registration' AND command_key = $1",
                [id.canonicalString])
            guard let sealed = try stored.first?.bytes("event_body_sealed") else { continue }
            var body = (try? JSONParser.parse(try keys.openText(sealed, context: place)))?.objectValue ?? JSONObject()
            for field in ["worker_name", "nik_masked"] where body[field] != nil { body[field] = .null }
            try db.execute(
                "UPDATE command_outcomes SET event_body_sealed = $2 WHERE kind = 'registration' AND command_key = $1",
                [id.canonicalString, keys.seal(JSONValue.object(body).canonicalString(), context: place)])
        }
        return rows.count
    }

    /// Re-encrypts, in batches, every sealed value not under the current key; online (rows another transaction
    /// holds are skipped and taken next time) and resumable (what is left is what still names an old key).
    /// Returns the values re-encrypted and those left.
    public func rotate(batch: Int = 500, on db: PostgresConnection) throws -> (rotated: Int, left: Int) {
        let current = withUnsafeBytes(of: keys.currentID.bigEndian) { Array($0) }
        var rotated = 0
        for table in Self.sealedColumns {
            while true {
                let done = try db.transaction { db -> Int in
                    let stale = table.columns.map { "substring(\($0) from 2 for 4) <> $1" }.joined(separator: " OR ")
                    let rows = try db.query(
                        """
                        SELECT \(table.identity), \(table.columns.joined(separator: ", ")) FROM \(table.name)
                        WHERE \(stale) LIMIT \(batch) FOR UPDATE SKIP LOCKED
                        """, [current])
                    for row in rows {
                        var values: [PostgresValue?] = []
                        var sets: [String] = []
                        for (index, column) in table.columns.enumerated() {
                            guard let sealed = try row.optionalBytes(column) else { continue }
                            let place = try table.place(row, column)
                            values.append(keys.seal(try keys.open(sealed, context: place), context: place))
                            sets.append("\(column) = $\(values.count)")
                            _ = index
                        }
                        values += try table.key(row)
                        let keyCondition = table.keyColumns.enumerated()
                            .map { "\($0.element) = $\(values.count - table.keyColumns.count + $0.offset + 1)" }
                        try db.execute(
                            "UPDATE \(table.name) SET \(sets.joined(separator: ", ")) WHERE "
                                + keyCondition.joined(separator: " AND "), values)
                    }
                    return rows.count
                }
                rotated += done
                if done == 0 { break }
            }
        }
        var left = 0
        for table in Self.sealedColumns {
            let stale = table.columns.map { "substring(\($0) from 2 for 4) <> $1" }.joined(separator: " OR ")
            left += try db.query("SELECT count(*) AS n FROM \(table.name) WHERE \(stale)", [current])[0].int("n")
        }
        try db.transaction { db in
            try audit(
                "keys_rotate", subject: nil, detail: "\(rotated) row(s) to key \(keys.currentID), \(left) left", on: db)
        }
        return (rotated, left)
    }

    private func audit(_ action: String, subject: [UInt8]?, detail: String, on db: PostgresConnection) throws {
        try db.execute(
            "INSERT INTO personal_data_audit (operator, action, subject_hash, detail) VALUES ($1, $2, $3, $4)",
            [operatorName, action, subject, detail])
    }

    /// The sealed columns of each table, how a row is named, and each value's place.
    struct SealedTable: Sendable {
        var name: String
        var identity: String
        var keyColumns: [String]
        var columns: [String]
        var place: @Sendable (PostgresRow, String) throws -> String
        var key: @Sendable (PostgresRow) throws -> [PostgresValue?]
    }

    static let sealedColumns: [SealedTable] = [
        SealedTable(
            name: "registrations", identity: "registration_id", keyColumns: ["registration_id"],
            columns: ["nik_sealed", "name_sealed", "birth_date_sealed", "phone_sealed", "address_sealed"],
            place: { row, column in
                let names = [
                    "nik_sealed": "nik", "name_sealed": "worker_name", "birth_date_sealed": "birth_date",
                    "phone_sealed": "phone", "address_sealed": "address",
                ]
                return SealedPlace.registration(try row.uuid("registration_id"), names[column]!)
            },
            key: { row in [try row.uuid("registration_id").canonicalString] }),
        SealedTable(
            name: "command_outcomes", identity: "kind, command_key", keyColumns: ["kind", "command_key"],
            columns: ["event_body_sealed"],
            place: { row, _ in
                SealedPlace.outcome(
                    CommandKey(
                        kind: CommandKind(rawValue: try row.string("kind")) ?? .registration,
                        key: try row.string("command_key")))
            },
            key: { row in [try row.string("kind"), try row.string("command_key")] }),
    ]
}
