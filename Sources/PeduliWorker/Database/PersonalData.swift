import Foundation
internal import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PostgresClient

/// Where each sealed value lives: its associated data, so a ciphertext copied to another row or column fails
/// to open instead of showing another worker's data.
enum SealedPlace {
    static func registration(_ id: UUID, _ column: String) -> String {
        "registrations/" + id.canonicalString + "/" + column
    }

    static func outcome(_ command: CommandKey) -> String {
        "command_outcomes/" + command.kind.rawValue + "/" + command.key
    }

    /// An outbox body is bound to the row's stored properties (its message id, type, headers' owner).
    static func outbox(properties: String) -> String { "outbox/" + properties }
}

extension DataKeys {
    /// The keys, or the error that names the missing setting (exit 78 in the executable).
    static func required(_ keys: DataKeys?, for operation: String) throws -> DataKeys {
        guard let keys else {
            throw WorkerError(
                code: .dataKeysMissing, operation: operation,
                detail:
                    "personal data needs the data keys: set security.data_keys_file (PEDULI_SECURITY_DATA_KEYS_FILE)")
        }
        return keys
    }

    func sealHex(_ text: String?, at place: String) -> String? {
        text.map { Hex.encode(seal($0, context: place)) }
    }
}

/// Version 8's data step: seals what an earlier release stored in plain text, in batches of 1,000 rows, each
/// batch in its own transaction, so an interrupted run resumes where it stopped (the plain rows left are the
/// ones still without a hash). It runs under the migration lock before consuming starts, so no decision reads
/// a half-sealed table. Workers of an earlier release must be stopped first (docs/operations.md, "Upgrading to
/// sealed personal data"): they look up plain NIKs.
struct PersonalDataMigration {
    let keys: DataKeys?
    static let batch = 1_000

    func sealPlainRows(on db: PostgresConnection) throws {
        while try sealRegistrations(db) > 0 {}
        while try sealCovered(db) > 0 {}
        while try sealOutcomes(db) > 0 {}
    }

    private func sealRegistrations(_ db: PostgresConnection) throws -> Int {
        try db.transaction { db in
            let rows = try db.query(
                """
                SELECT registration_id, nik, worker_name, birth_date::text AS birth, phone, address FROM registrations
                WHERE nik_hash IS NULL ORDER BY registration_id LIMIT $1 FOR UPDATE
                """, [Self.batch])
            guard !rows.isEmpty else { return 0 }
            let keys = try DataKeys.required(keys, for: "migrate")
            var ids: [String] = [], hashes: [String] = [], niks: [String?] = [], names: [String?] = []
            var births: [String?] = [], phones: [String?] = [], addresses: [String?] = []
            for row in rows {
                let id = try row.uuid("registration_id")
                let nik = try row.string("nik")
                ids.append(id.canonicalString)
                hashes.append(Hex.encode(keys.nikHash(nik)))
                niks.append(keys.sealHex(nik, at: SealedPlace.registration(id, "nik")))
                names.append(
                    keys.sealHex(try row.string("worker_name"), at: SealedPlace.registration(id, "worker_name")))
                births.append(keys.sealHex(try row.string("birth"), at: SealedPlace.registration(id, "birth_date")))
                phones.append(keys.sealHex(try row.optionalString("phone"), at: SealedPlace.registration(id, "phone")))
                addresses.append(
                    keys.sealHex(try row.optionalString("address"), at: SealedPlace.registration(id, "address")))
            }
            try db.execute(
                """
                UPDATE registrations r SET nik_hash = decode(u.h, 'hex'), nik_sealed = decode(u.n, 'hex'),
                    name_sealed = decode(u.nm, 'hex'), birth_date_sealed = decode(u.b, 'hex'),
                    phone_sealed = decode(u.p, 'hex'), address_sealed = decode(u.a, 'hex'),
                    nik = NULL, worker_name = NULL, birth_date = NULL, phone = NULL, address = NULL
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                    AS u(id, h, n, nm, b, p, a)
                WHERE r.registration_id = u.id
                """,
                [
                    PostgresArray.text(ids), PostgresArray.text(hashes), PostgresArray.text(niks),
                    PostgresArray.text(names), PostgresArray.text(births), PostgresArray.text(phones),
                    PostgresArray.text(addresses),
                ])
            return rows.count
        }
    }

    private func sealCovered(_ db: PostgresConnection) throws -> Int {
        try db.transaction { db in
            let rows = try db.query(
                "SELECT nik FROM covered_niks WHERE nik_hash IS NULL ORDER BY nik LIMIT $1 FOR UPDATE", [Self.batch])
            guard !rows.isEmpty else { return 0 }
            let keys = try DataKeys.required(keys, for: "migrate")
            let niks = try rows.map { try $0.string("nik") }
            try db.execute(
                """
                UPDATE covered_niks c SET nik_hash = decode(u.h, 'hex')
                FROM unnest($1::text[], $2::text[]) AS u(n, h) WHERE c.nik = u.n
                """, [PostgresArray.text(niks), PostgresArray.text(niks.map { Hex.encode(keys.nikHash($0)) })])
            return rows.count
        }
    }

    private func sealOutcomes(_ db: PostgresConnection) throws -> Int {
        try db.transaction { db in
            let rows = try db.query(
                """
                SELECT kind, command_key, event_body FROM command_outcomes WHERE event_body_sealed IS NULL
                ORDER BY kind, command_key LIMIT $1 FOR UPDATE
                """, [Self.batch])
            guard !rows.isEmpty else { return 0 }
            let keys = try DataKeys.required(keys, for: "migrate")
            var kinds: [String] = [], commandKeys: [String] = [], sealed: [String?] = []
            for row in rows {
                let kind = try row.string("kind"), key = try row.string("command_key")
                let place = SealedPlace.outcome(
                    CommandKey(kind: CommandKind(rawValue: kind) ?? .registration, key: key))
                kinds.append(kind)
                commandKeys.append(key)
                sealed.append(keys.sealHex(try row.string("event_body"), at: place))
            }
            try db.execute(
                """
                UPDATE command_outcomes c SET event_body_sealed = decode(u.s, 'hex'), event_body = ''
                FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, c, s)
                WHERE c.kind = u.k AND c.command_key = u.c
                """, [PostgresArray.text(kinds), PostgresArray.text(commandKeys), PostgresArray.text(sealed)])
            return rows.count
        }
    }
}
