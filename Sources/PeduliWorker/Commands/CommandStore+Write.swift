import Foundation
internal import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PostgresClient

extension CommandStore {
    /// Stores a decision: the processing log first (its unique key is the claim), then the rows, then the
    /// outbox with its NOTIFY. Throws `ConcurrentClaimError` when another instance logged one of the messages
    /// first. Personal data goes in sealed (`SealedPlace` names each value's place), the NIK also as its keyed
    /// hash.
    func write(_ w: BatchDecision, on db: PostgresConnection) throws {
        func seal(_ text: String?, _ r: AcceptedRegistration, _ column: String) -> String? {
            keys.sealHex(text, at: SealedPlace.registration(r.registrationID, column))
        }
        var statements: [PostgresStatement] = []
        statements.append(
            PostgresStatement(
                """
                INSERT INTO processing_log (message_id, attempt, queue, publisher, command, command_key, outcome, reason_codes,
                    redelivered)
                SELECT m, a, q, p, c, k, o, CASE WHEN r = '' THEN '{}'::text[] ELSE string_to_array(r, ',') END, d
                FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::bool[]) AS t(m, a, q, p, c, k, o, r, d)
                ON CONFLICT (message_id, attempt) WHERE message_id IS NOT NULL AND outcome <> 'parked' DO NOTHING
                """,
                [
                    PostgresArray.text(w.log.map(\.messageID)), PostgresArray.int(w.log.map { $0.attempt }),
                    PostgresArray.text(w.log.map(\.queue)), PostgresArray.text(w.log.map(\.publisher)),
                    PostgresArray.text(w.log.map(\.command.rawValue)), PostgresArray.text(w.log.map(\.key)),
                    PostgresArray.text(w.log.map(\.outcome)), PostgresArray.joined(w.log.map(\.reasons)),
                    PostgresArray.bool(w.log.map(\.redelivered)),
                ]))
        if !w.ended.isEmpty {
            statements.append(
                PostgresStatement(
                    "UPDATE registrations SET ended_at = now() WHERE registration_id = ANY($1::uuid[]) AND ended_at IS NULL",
                    [PostgresArray.text(w.ended.map(\.canonicalString))]))
        }
        if !w.registrations.isEmpty {
            let r = w.registrations
            statements.append(
                PostgresStatement(
                    """
                    INSERT INTO registrations (registration_id, submitted_at, accepted_at, sponsor_nip, nik_hash,
                        nik_sealed, name_sealed, birth_date_sealed, gender, phone_sealed, occupation, work_status,
                        kecamatan, kelurahan, address_sealed, source, monthly_contribution, first_due_date)
                    SELECT id, s, a, n, decode(h, 'hex'), decode(nk, 'hex'), decode(nm, 'hex'), decode(b, 'hex'), g,
                        decode(ph, 'hex'), o, w, kc, kl, decode(ad, 'hex'), src, mc, fd
                    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[],
                        $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                        $14::text[], $15::text[], $16::int[], $17::date[], $18::text[])
                        AS u(id, s, a, n, h, nk, nm, b, g, ph, o, w, kc, kl, ad, mc, fd, src)
                    """,
                    [
                        PostgresArray.text(r.map { $0.registrationID.canonicalString }),
                        PostgresArray.text(r.map { PostgresText.encodeTimestamp($0.submittedAt) }),
                        PostgresArray.text(r.map { PostgresText.encodeTimestamp($0.acceptedAt) }),
                        PostgresArray.text(r.map { $0.sponsorNIP.value }),
                        PostgresArray.text(r.map { Hex.encode(keys.nikHash($0.nik.digits)) }),
                        PostgresArray.text(r.map { seal($0.nik.digits, $0, "nik") }),
                        PostgresArray.text(r.map { seal($0.workerName, $0, "worker_name") }),
                        PostgresArray.text(r.map { seal($0.birthDate.description, $0, "birth_date") }),
                        PostgresArray.text(r.map { $0.gender.rawValue }),
                        PostgresArray.text(r.map { seal($0.phone?.e164, $0, "phone") }),
                        PostgresArray.text(r.map { $0.occupation.code }),
                        PostgresArray.text(r.map { $0.workStatus.rawValue }),
                        PostgresArray.text(r.map { $0.kecamatan.code }),
                        PostgresArray.text(r.map { $0.kelurahan?.code }),
                        PostgresArray.text(r.map { seal($0.address?.text, $0, "address") }),
                        PostgresArray.int(r.map { Int($0.monthlyContribution) }),
                        PostgresArray.text(r.map { $0.firstDueDate.description }),
                        PostgresArray.text(r.map { $0.source.rawValue }),
                    ]))
        }
        if !w.payments.isEmpty {
            let p = w.payments
            // With the payments, the months each covers, one row each: two payments of one registration for
            // the same month violate the primary key, and the batch is decided again on the state that won.
            statements.append(
                PostgresStatement(
                    """
                    WITH paid AS (
                        INSERT INTO payments (payment_id, registration_id, payer_nip, months, amount, paid_at, channel,
                            covered_from, covered_through, receipt_number)
                        SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::bigint[],
                            $6::timestamptz[], $7::text[], $8::date[], $9::date[], $10::text[])
                        RETURNING payment_id, registration_id, covered_from, covered_through)
                    INSERT INTO payment_months (registration_id, month, payment_id)
                    SELECT registration_id, generate_series(covered_from, covered_through, interval '1 month')::date,
                        payment_id
                    FROM paid
                    """,
                    [
                        PostgresArray.text(p.map { $0.payment.paymentID }),
                        PostgresArray.text(p.map { $0.payment.registrationID.canonicalString }),
                        PostgresArray.text(p.map { $0.payment.payerNIP.value }),
                        PostgresArray.int(p.map { $0.payment.months }),
                        PostgresArray.int(p.map { Int($0.payment.amount) }),
                        PostgresArray.text(p.map { PostgresText.encodeTimestamp($0.payment.paidAt) }),
                        PostgresArray.text(p.map { $0.payment.channel.rawValue }),
                        PostgresArray.text(p.map { $0.payment.coveredFrom.firstDay.description }),
                        PostgresArray.text(p.map { $0.payment.coveredThrough.firstDay.description }),
                        PostgresArray.text(p.map(\.receipt)),
                    ]))
            let updates = w.paidThrough.sorted { $0.key.uuidString < $1.key.uuidString }
            statements.append(
                PostgresStatement(
                    """
                    UPDATE registrations r SET paid_through = u.p, ended_at = CASE WHEN u.reopen THEN NULL ELSE r.ended_at END
                    FROM unnest($1::uuid[], $2::date[], $3::bool[]) AS u(id, p, reopen) WHERE r.registration_id = u.id
                    """,
                    [
                        PostgresArray.text(updates.map { $0.key.canonicalString }),
                        PostgresArray.text(updates.map { $0.value.month.firstDay.description }),
                        PostgresArray.bool(updates.map { $0.value.reopen }),
                    ]))
        }
        if !w.outcomes.isEmpty {
            let o = w.outcomes
            statements.append(
                PostgresStatement(
                    """
                    INSERT INTO command_outcomes (kind, command_key, content_hash, event_type, event_body_sealed)
                    SELECT k, c, sha256(convert_to(i, 'UTF8')), t, decode(b, 'hex')
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(k, c, i, t, b)
                    """,
                    [
                        PostgresArray.text(o.map(\.command.kind.rawValue)), PostgresArray.text(o.map(\.command.key)),
                        PostgresArray.text(o.map(\.identity)), PostgresArray.text(o.map(\.eventType)),
                        PostgresArray.text(o.map { keys.sealHex($0.body, at: SealedPlace.outcome($0.command)) }),
                    ]))
        }
        statements += OutboxMessage.enqueue(w.outbox, keys: keys)
        let results = try db.pipeline(statements)
        // Another instance settled one of these messages at the same moment: decide the batch again. (A parked
        // row claims nothing, so it is always inserted.)
        if results[0].affectedRows != w.log.count {
            throw ConcurrentClaimError(expected: w.log.count, inserted: results[0].affectedRows)
        }
    }

}
