import Foundation
internal import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PostgresClient

/// Another instance settled one of the batch's messages at the same moment (the processing log's unique key
/// refused a row): the batch is decided again from fresh facts.
struct ConcurrentClaimError: Error, CustomStringConvertible {
    /// Rows the batch meant to log, and rows the database took.
    var expected: Int
    var inserted: Int

    var description: String {
        "a message of the batch was settled concurrently (\(inserted) of \(expected) log rows inserted)"
    }
}

/// The command path's SQL: the look-ups a batch's decisions need, and the writes of a decision. Each is one
/// pipeline (one round trip) whatever the batch size; both run inside the caller's transaction.
struct CommandStore: Sendable {
    /// Personal data is stored sealed and NIKs are looked up by their keyed hash.
    let keys: DataKeys

    /// Everything the batch's decisions need from the database.
    func lookUp(_ batch: [InboundCommand], on db: PostgresConnection) throws -> BatchFacts {
        var messageIDs: Set<String> = []
        var outcomeKinds: [String] = [], outcomeKeys: [String] = [], outcomeContents: [String] = []
        var nips: Set<String> = [], niks: Set<String> = [], registrationIDs: Set<String> = []
        var possiblePayments = 0
        for command in batch {
            if let id = command.context.messageID { messageIDs.insert(id) }
            switch command.body {
            case .park: break
            case .registration(let draft, let identity):
                if let id = draft.registrationID {
                    outcomeKinds.append(CommandKind.registration.rawValue)
                    outcomeKeys.append(id.canonicalString)
                    outcomeContents.append(identity)
                }
                if let nip = draft.lookupSponsorNIP { nips.insert(nip) }
                if let nik = draft.lookupNIK { niks.insert(nik.digits) }
            case .payment(let draft, let identity):
                if let id = draft.paymentID {
                    outcomeKinds.append(CommandKind.payment.rawValue)
                    outcomeKeys.append(id)
                    outcomeContents.append(identity)
                }
                if let nip = draft.lookupPayerNIP { nips.insert(nip) }
                if let id = draft.lookupRegistrationID { registrationIDs.insert(id.canonicalString) }
                if draft.errors.isEmpty { possiblePayments += 1 }
            }
        }
        // NIKs travel to the database only as keyed hashes; the answers come back keyed by hash.
        var nikByHash: [String: String] = [:]
        for nik in niks { nikByHash[Hex.encode(keys.nikHash(nik))] = nik }
        let hashes = PostgresArray.text(Array(nikByHash.keys))
        let results = try db.pipeline([
            PostgresStatement(
                """
                SELECT message_id, attempt FROM processing_log
                WHERE message_id = ANY($1::text[]) AND outcome <> 'parked'
                """,
                [PostgresArray.text(Array(messageIDs))]),
            PostgresStatement(
                """
                SELECT c.kind, c.command_key, k.content, c.content_hash = sha256(convert_to(k.content, 'UTF8')) AS same,
                       c.event_type, c.event_body_sealed
                FROM unnest($1::text[], $2::text[], $3::text[]) AS k(kind, key, content)
                JOIN command_outcomes c ON c.kind = k.kind AND c.command_key = k.key
                """,
                [
                    PostgresArray.text(outcomeKinds), PostgresArray.text(outcomeKeys),
                    PostgresArray.text(outcomeContents),
                ]),
            PostgresStatement(
                "SELECT nip, active FROM sponsors WHERE nip = ANY($1::text[])", [PostgresArray.text(Array(nips))]),
            PostgresStatement(
                """
                SELECT encode(nik_hash, 'hex') AS h FROM covered_niks
                WHERE nik_hash IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)
                """, [hashes]),
            PostgresStatement(
                """
                SELECT encode(nik_hash, 'hex') AS h, registration_id, accepted_at, paid_through FROM registrations
                WHERE nik_hash IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x) AND ended_at IS NULL
                """, [hashes]),
            PostgresStatement(
                """
                SELECT r.registration_id, r.submitted_at, r.accepted_at, r.birth_date_sealed, r.paid_through,
                       r.ended_at IS NOT NULL AS ended,
                       EXISTS (SELECT 1 FROM registrations o WHERE o.nik_hash = r.nik_hash
                               AND o.registration_id <> r.registration_id AND o.accepted_at > r.accepted_at) AS again
                FROM registrations r WHERE r.registration_id = ANY($1::uuid[])
                ORDER BY r.registration_id FOR UPDATE OF r
                """, [PostgresArray.text(Array(registrationIDs))]),
            PostgresStatement(
                """
                SELECT command_key FROM command_outcomes
                WHERE kind = 'registration' AND event_type = 'registration.rejected' AND command_key = ANY($1::text[])
                """, [PostgresArray.text(Array(registrationIDs))]),
            PostgresStatement(
                "SELECT nextval('receipt_numbers') AS n FROM generate_series(1, $1)", [possiblePayments]),
        ])
        return try facts(from: results, nikByHash: nikByHash)
    }

    private func facts(from results: [PostgresResult], nikByHash: [String: String]) throws -> BatchFacts {
        var facts = BatchFacts()
        for row in results[0] {
            facts.processed.insert(InboxKey(messageID: try row.string("message_id"), attempt: try row.int("attempt")))
        }
        for row in results[1] {
            guard let kind = CommandKind(rawValue: try row.string("kind")) else { continue }
            let key = CommandKey(kind: kind, key: try row.string("command_key"))
            let body = try keys.openText(try row.bytes("event_body_sealed"), context: SealedPlace.outcome(key))
            facts.outcomes[key] = StoredOutcome(eventType: try row.string("event_type"), eventBody: body, identity: nil)
            facts.sameContent[ContentProbe(command: key, identity: try row.string("content"))] = try row.bool("same")
        }
        for row in results[2] {
            facts.sponsors[try row.string("nip")] = try row.bool("active") ? .active : .inactive
        }
        for row in results[3] {
            if let nik = nikByHash[try row.string("h")] { facts.coveredNIKs.insert(nik) }
        }
        for row in results[4] {
            guard let nik = nikByHash[try row.string("h")] else { continue }
            facts.openByNIK[nik, default: []].append(
                OpenRegistration(
                    id: try row.uuid("registration_id"), acceptedAt: try row.timestamp("accepted_at"),
                    paidThrough: try row.yearMonth("paid_through")))
        }
        for row in results[5] {
            let id = try row.uuid("registration_id")
            if try row.isNull("birth_date_sealed") {
                // Erased at the subject's request or after retention: nothing more can be paid on it.
                facts.registrations[id] = RegistrationState(
                    status: .accepted, submittedAt: try row.timestamp("submitted_at"),
                    acceptedAt: try row.timestamp("accepted_at"), birthDate: BatchFacts.rejectedRegistration.birthDate,
                    paidThrough: try row.yearMonth("paid_through"), ended: true, nikRegisteredAgain: true)
                continue
            }
            let birth = try keys.openText(
                try row.bytes("birth_date_sealed"), context: SealedPlace.registration(id, "birth_date"))
            guard let birthDate = JakartaDate.parse(birth) else {
                throw DataKeyError(.tampered, "the birth date of registration \(id.canonicalString) is not a date")
            }
            facts.registrations[id] = RegistrationState(
                status: .accepted, submittedAt: try row.timestamp("submitted_at"),
                acceptedAt: try row.timestamp("accepted_at"), birthDate: birthDate,
                paidThrough: try row.yearMonth("paid_through"), ended: try row.bool("ended"),
                nikRegisteredAgain: try row.bool("again"))
        }
        for row in results[6] {
            if let id = UUID(uuidString: try row.string("command_key")) {
                facts.registrations[id] = BatchFacts.rejectedRegistration
            }
        }
        facts.receipts = try results[7].map { try $0.int64("n") }
        return facts
    }
}
