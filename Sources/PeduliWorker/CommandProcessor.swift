import AMQPClient
import Foundation
import Logging
import PeduliDomain
import PostgresClient

/// Which command a work queue carries.
enum CommandKind: String, Sendable {
    case registration
    case payment
}

/// Decides a batch of deliveries in one PostgreSQL transaction: inbox check by `message_id`, the domain's
/// rules with the database facts, the rows, the outbox messages and the processing log.
///
/// The transaction has four round trips whatever the batch size: BEGIN, one pipeline of look-ups, one
/// pipeline of writes, COMMIT. Decisions inside a batch see the effects of the earlier messages of the same
/// batch (two registrations of one NIK, a payment right after its registration). What another instance does
/// at the same moment is caught by the schema's constraints: the batch is then decided again from fresh facts,
/// and if it still fails (a message that breaks every time), each message is decided alone so only the bad one
/// goes back to the queue (where `x-delivery-limit` eventually parks it).
final class CommandProcessor {
    let db: PostgresConnection
    let programme: ProgrammeConfiguration
    let pipeline: PipelineConfiguration
    let check: InboundCheck
    let workerUser: String?
    let logger: Logger
    let now: () -> Date

    init(db: PostgresConnection, programme: ProgrammeConfiguration, pipeline: PipelineConfiguration,
         workerUser: String?, logger: Logger, now: @escaping () -> Date = Date.init) {
        self.db = db
        self.programme = programme
        self.pipeline = pipeline
        self.workerUser = workerUser
        self.check = InboundCheck(
            allowedPublishers: pipeline.allowedPublishers, maxMessageBytes: pipeline.maxMessageBytes,
            workerUser: workerUser)
        self.logger = logger
        self.now = now
    }

    typealias Disposition = ConsumerStateMachine<AMQPDelivery>.Disposition

    /// Decides and commits a batch. Throws only when the database is unreachable or the commit's outcome is
    /// unknown: then nothing may be acknowledged, and the caller retries the same batch after reconnecting
    /// (the inbox turns whatever did commit into no-ops).
    func process(_ deliveries: [AMQPDelivery]) throws -> [Disposition] {
        let prepared = deliveries.map(prepare)
        var attempt = 0
        while true {
            do {
                try runTransaction(prepared)
                return Array(repeating: .ack, count: deliveries.count)
            } catch let error as PostgresError where error.category == .connectionLost {
                throw error
            } catch {
                attempt += 1
                let why = (error as? PostgresError)?.category.rawValue ?? "other"
                PipelineMetrics.batchRetried(why)
                logger.warning("batch failed; deciding it again", metadata: [
                    "error": "\(error)", "attempt": "\(attempt)", "size": "\(deliveries.count)",
                ])
                if attempt >= 3 { break }
            }
        }
        // Isolation: each message alone, so one that fails every time cannot hold the others back.
        var dispositions: [Disposition] = []
        for message in prepared {
            do {
                try runTransaction([message])
                dispositions.append(.ack)
            } catch let error as PostgresError where error.category == .connectionLost {
                throw error
            } catch {
                logger.error("message failed on its own; returned to its queue", metadata: [
                    "message_id": "\(message.context.messageID ?? "-")", "error": "\(error)",
                ])
                dispositions.append(.requeue)
            }
        }
        return dispositions
    }

    // MARK: - Phase 1: everything that needs no database

    struct Context {
        var queue: String
        var kind: CommandKind
        var messageID: String?
        var publisher: String?
        var attempt: Int
        var correlationID: String?
        var delivery: AMQPDelivery
    }

    enum Body {
        case park(ParkReason, detail: String)
        case registration(RegistrationDraft, identity: String)
        case payment(PaymentDraft, identity: String)
    }

    struct Prepared {
        var context: Context
        var body: Body
    }

    func prepare(_ delivery: AMQPDelivery) -> Prepared {
        let props = delivery.properties
        let kind: CommandKind = delivery.consumerTag.contains(".payments.") ? .payment : .registration
        let queue = kind == .payment ? pipeline.topology.paymentsQueue : pipeline.topology.registrationsQueue
        let envelope = InboundEnvelope(
            contentType: props.contentType, messageID: props.messageId, userID: props.userId,
            correlationID: props.correlationId,
            attemptHeader: props.headers?["x-peduli-attempt"]?.int64Value.map { Int(clamping: $0) },
            originalUserHeader: props.headers?["x-peduli-user-id"]?.stringValue, bodySize: delivery.body.count,
            headersDropped: delivery.headersDropped)
        var context = Context(
            queue: queue, kind: kind, messageID: nil, publisher: check.publisher(of: envelope), attempt: 0,
            correlationID: props.correlationId ?? props.messageId, delivery: delivery)
        switch check.check(envelope) {
        case .park(let reason, let detail):
            if let id = props.messageId, !id.isEmpty, id.utf8.count <= 128,
                id.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
            {
                context.messageID = id
            }
            return Prepared(context: context, body: .park(reason, detail: detail))
        case .accept(_, let attempt):
            context.messageID = props.messageId
            context.attempt = attempt
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(delivery.body)
        } catch {
            return Prepared(context: context, body: .park(.malformedJSON, detail: error.description))
        }
        guard case .object = json else {
            return Prepared(
                context: context, body: .park(.malformedJSON, detail: "the body is JSON \(json.typeName), not an object"))
        }
        let identity = String(decoding: json.commandIdentityBytes(), as: UTF8.self)
        switch kind {
        case .registration:
            return Prepared(
                context: context,
                body: .registration(RegistrationDraft.decode(json, config: programme, now: now()), identity: identity))
        case .payment:
            return Prepared(
                context: context,
                body: .payment(PaymentDraft.decode(json, config: programme, now: now()), identity: identity))
        }
    }

    // MARK: - Phase 2: look-ups, decisions, writes

    private func runTransaction(_ batch: [Prepared]) throws {
        let started = ContinuousClock.now
        try db.transaction { db in
            let facts = try lookUp(batch, on: db)
            var writes = BatchWrites()
            var state = BatchState(facts: facts)
            let decidedAt = now()
            for message in batch {
                decide(message, state: &state, writes: &writes, at: decidedAt)
            }
            try write(writes, on: db)
        }
        let elapsed = ContinuousClock.now - started
        PipelineMetrics.batch(size: batch.count, commitSeconds: elapsed.seconds)
    }

    /// Everything the batch's decisions need from the database, fetched in one pipeline.
    struct Facts {
        var processed: Set<String> = []  // "message_id\u{0}attempt"
        var outcomes: [String: StoredOutcome] = [:]  // "kind\u{0}key"
        /// Whether the stored content equals a message's, keyed "kind\u{0}key\u{0}identity" (from the hash).
        var sameContent: [String: Bool] = [:]
        var sponsors: [String: SponsorStatus] = [:]
        var coveredNIKs: Set<String> = []
        var openByNIK: [String: [OpenRegistration]] = [:]
        var registrations: [UUID: RegistrationState] = [:]
        var receipts: [Int64] = []
    }

    /// A command already decided: from the database (`identity` nil, compared there by hash) or earlier in
    /// this batch (compared here).
    struct StoredOutcome {
        var eventType: String
        var eventBody: String
        var identity: String?
    }

    struct OpenRegistration {
        var id: UUID
        var acceptedAt: Date
        var paidThrough: YearMonth?
    }

    private func lookUp(_ batch: [Prepared], on db: PostgresConnection) throws -> Facts {
        var messageIDs: Set<String> = []
        var outcomeKinds: [String] = [], outcomeKeys: [String] = [], outcomeContents: [String] = []
        var nips: Set<String> = [], niks: Set<String> = [], registrationIDs: Set<String> = []
        var possiblePayments = 0
        for message in batch {
            if let id = message.context.messageID { messageIDs.insert(id) }
            switch message.body {
            case .park: break
            case .registration(let draft, let identity):
                if let id = draft.registrationID {
                    outcomeKinds.append("registration")
                    outcomeKeys.append(id.canonicalString)
                    outcomeContents.append(identity)
                }
                if let nip = draft.lookupSponsorNIP { nips.insert(nip) }
                if let nik = draft.lookupNIK { niks.insert(nik.digits) }
            case .payment(let draft, let identity):
                if let id = draft.paymentID {
                    outcomeKinds.append("payment")
                    outcomeKeys.append(id)
                    outcomeContents.append(identity)
                }
                if let nip = draft.lookupPayerNIP { nips.insert(nip) }
                if let id = draft.lookupRegistrationID { registrationIDs.insert(id.canonicalString) }
                if draft.errors.isEmpty { possiblePayments += 1 }
            }
        }
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
                       c.event_type, c.event_body
                FROM unnest($1::text[], $2::text[], $3::text[]) AS k(kind, key, content)
                JOIN command_outcomes c ON c.kind = k.kind AND c.command_key = k.key
                """,
                [PostgresArray.text(outcomeKinds), PostgresArray.text(outcomeKeys), PostgresArray.text(outcomeContents)]),
            PostgresStatement(
                "SELECT nip, active FROM sponsors WHERE nip = ANY($1::text[])", [PostgresArray.text(Array(nips))]),
            PostgresStatement(
                "SELECT nik FROM covered_niks WHERE nik = ANY($1::text[])", [PostgresArray.text(Array(niks))]),
            PostgresStatement(
                """
                SELECT nik, registration_id, accepted_at, paid_through FROM registrations
                WHERE nik = ANY($1::text[]) AND ended_at IS NULL
                """, [PostgresArray.text(Array(niks))]),
            PostgresStatement(
                """
                SELECT r.registration_id, r.submitted_at, r.accepted_at, r.birth_date, r.paid_through,
                       r.ended_at IS NOT NULL AS ended,
                       EXISTS (SELECT 1 FROM registrations o WHERE o.nik = r.nik
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
        var facts = Facts()
        for row in results[0] {
            facts.processed.insert(try row.string("message_id") + "\u{0}" + String(try row.int("attempt")))
        }
        for row in results[1] {
            let kindKey = try row.string("kind") + "\u{0}" + row.string("command_key")
            facts.outcomes[kindKey] = StoredOutcome(
                eventType: try row.string("event_type"), eventBody: try row.string("event_body"), identity: nil)
            facts.sameContent[kindKey + "\u{0}" + (try row.string("content"))] = try row.bool("same")
        }
        for row in results[2] {
            facts.sponsors[try row.string("nip")] = try row.bool("active") ? .active : .inactive
        }
        for row in results[3] { facts.coveredNIKs.insert(try row.string("nik")) }
        for row in results[4] {
            facts.openByNIK[try row.string("nik"), default: []].append(
                OpenRegistration(
                    id: try row.uuid("registration_id"), acceptedAt: try row.timestamp("accepted_at"),
                    paidThrough: try Self.yearMonth(row, "paid_through")))
        }
        for row in results[5] {
            let birth = try row.date("birth_date")
            facts.registrations[try row.uuid("registration_id")] = RegistrationState(
                status: .accepted, submittedAt: try row.timestamp("submitted_at"),
                acceptedAt: try row.timestamp("accepted_at"),
                birthDate: JakartaDate(year: birth.year, month: birth.month, clampingDay: birth.day),
                paidThrough: try Self.yearMonth(row, "paid_through"), ended: try row.bool("ended"),
                nikRegisteredAgain: try row.bool("again"))
        }
        for row in results[6] {
            if let id = UUID(uuidString: try row.string("command_key")) {
                facts.registrations[id] = Self.rejectedRegistration
            }
        }
        facts.receipts = try results[7].map { try $0.int64("n") }
        return facts
    }

    /// The decisions so far in this batch, layered over the facts from the database.
    struct BatchState {
        var facts: Facts
        var receiptIndex = 0

        init(facts: Facts) { self.facts = facts }

        func isSame(_ stored: StoredOutcome, kindKey: String, identity: String) -> Bool {
            if let known = stored.identity { return known == identity }
            return facts.sameContent[kindKey + "\u{0}" + identity] ?? false
        }

        mutating func takeReceipt() -> Int64 {
            defer { receiptIndex += 1 }
            return facts.receipts[receiptIndex]
        }
    }

    struct LogRow {
        var messageID: String?
        var attempt: Int
        var queue: String
        var publisher: String?
        var command: String
        var key: String?
        var outcome: String
        var reasons: [String]
        var redelivered: Bool
    }

    struct OutcomeRow {
        var kind: String
        var key: String
        var identity: String
        var eventType: String
        var body: String
    }

    struct BatchWrites {
        var log: [LogRow] = []
        var outbox: [OutboxMessage] = []
        var outcomes: [OutcomeRow] = []
        var registrations: [AcceptedRegistration] = []
        var ended: [UUID] = []
        var payments: [(payment: ConfirmedPayment, receipt: String)] = []
        var paidThrough: [UUID: (month: YearMonth, reopen: Bool)] = [:]
    }

    private func decide(_ message: Prepared, state: inout BatchState, writes: inout BatchWrites, at decidedAt: Date) {
        let c = message.context
        let command = c.kind.rawValue
        PipelineMetrics.consumed(command)
        func log(_ outcome: String, key: String?, reasons: [String] = []) {
            writes.log.append(LogRow(
                messageID: c.messageID, attempt: c.attempt, queue: c.queue, publisher: c.publisher, command: command,
                key: key, outcome: outcome, reasons: reasons, redelivered: c.delivery.redelivered))
            PipelineMetrics.outcome(command, outcome, reason: reasons.first)
        }
        // The inbox: the same message (and retry attempt) settles once. Only a message that may have an effect
        // claims its id: a parked one claims nothing (CONTRACT.md), so junk sent under a portal's id first
        // cannot make the portal's real command a no-op.
        let inboxKey = c.messageID.map { $0 + "\u{0}" + String(c.attempt) }
        var claimedHere = false
        func park(_ reason: ParkReason, _ detail: String, key: String?) {
            writes.outbox.append(parkedCopy(c, reason: reason, detail: detail))
            log("parked", key: key, reasons: [reason.rawValue])
            PipelineMetrics.parked(reason)
            if claimedHere, let inboxKey { state.facts.processed.remove(inboxKey) }
        }
        if case .park(let reason, let detail) = message.body {
            park(reason, detail, key: nil)
            return
        }
        if let inboxKey {
            if state.facts.processed.contains(inboxKey) {
                PipelineMetrics.outcome(command, "duplicate", reason: nil)
                return
            }
            state.facts.processed.insert(inboxKey)
            claimedHere = true
        }

        /// A command key decided before: the same content is replayed, other content is parked. True when
        /// the message is settled that way.
        func settledEarlier(_ kind: CommandKind, key: String?, identity: String) -> Bool {
            let kindKey = kind.rawValue + "\u{0}" + (key ?? "")
            guard let key, let stored = state.facts.outcomes[kindKey] else { return false }
            if state.isSame(stored, kindKey: kindKey, identity: identity) {
                writes.outbox.append(replay(stored, context: c, at: decidedAt))
                log("replayed", key: key)
            } else {
                park(.conflictingDuplicate, "\(kind == .payment ? "payment_id" : "registration_id") was decided before with other content", key: key)
            }
            return true
        }

        switch message.body {
        case .park:
            return  // settled above

        case .registration(let draft, let identity):
            let key = draft.registrationID.map(\.canonicalString)
            if settledEarlier(.registration, key: key, identity: identity) { return }
            var facts = RegistrationFacts(sponsor: draft.lookupSponsorNIP.flatMap { state.facts.sponsors[$0] })
            var lapsed: [UUID] = []
            if let nik = draft.lookupNIK?.digits {
                facts.coveredByOtherScheme = state.facts.coveredNIKs.contains(nik)
                let today = JakartaDate(decidedAt)
                for open in state.facts.openByNIK[nik] ?? [] {
                    if Grace.isOpen(on: today, acceptedOn: JakartaDate(open.acceptedAt), paidThrough: open.paidThrough,
                                    config: programme) {
                        facts.hasActiveRegistration = true
                    } else {
                        lapsed.append(open.id)
                    }
                }
            }
            let decision = decideRegistration(draft, facts: facts, config: programme, acceptedAt: decidedAt)
            let event: any PeduliEvent
            switch decision {
            case .accepted(let accepted):
                event = RegistrationAcceptedEvent(accepted, eventID: UUID(), occurredAt: decidedAt)
                writes.registrations.append(accepted)
                writes.ended += lapsed
                let nik = accepted.nik.digits
                state.facts.openByNIK[nik] = [OpenRegistration(id: accepted.registrationID, acceptedAt: decidedAt, paidThrough: nil)]
                state.facts.registrations[accepted.registrationID] = RegistrationState(
                    status: .accepted, submittedAt: accepted.submittedAt, acceptedAt: decidedAt,
                    birthDate: accepted.birthDate, paidThrough: nil)
                log("accepted", key: key, reasons: accepted.warnings.map(\.code.rawValue))
            case .rejected(let errors):
                event = RegistrationRejectedEvent(draft: draft, errors: errors, eventID: UUID(), occurredAt: decidedAt)
                if let id = draft.registrationID {
                    state.facts.registrations[id] = Self.rejectedRegistration
                }
                log("rejected", key: key, reasons: errors.map(\.code.rawValue))
            }
            settle(event, kind: "registration", key: key, identity: identity, context: c, state: &state, writes: &writes)

        case .payment(let draft, let identity):
            let key = draft.paymentID
            if settledEarlier(.payment, key: key, identity: identity) { return }
            let facts = PaymentFacts(
                payer: draft.lookupPayerNIP.flatMap { state.facts.sponsors[$0] },
                registration: draft.lookupRegistrationID.flatMap { state.facts.registrations[$0] })
            let finalAttempt = c.attempt >= pipeline.topology.retryDelays.count
            let event: any PeduliEvent
            switch decidePayment(draft, facts: facts, config: programme, finalAttempt: finalAttempt) {
            case .unknownRegistration:
                let delay = pipeline.topology.retryDelays[c.attempt]
                writes.outbox.append(retryCopy(c, queue: pipeline.topology.retryQueue(for: delay)))
                log("retry_scheduled", key: key, reasons: ["unknown_registration"])
                PipelineMetrics.retryScheduled(attempt: c.attempt + 1)
                return
            case .confirmed(let payment):
                let sequence = state.takeReceipt()
                let receipt = ReceiptNumber.format(year: JakartaDate(decidedAt).year, sequence: sequence)
                event = PaymentConfirmedEvent(payment, receiptNumber: receipt, eventID: UUID(), occurredAt: decidedAt)
                writes.payments.append((payment, receipt))
                writes.paidThrough[payment.registrationID] = (
                    payment.newPaidThrough,
                    (writes.paidThrough[payment.registrationID]?.reopen ?? false) || payment.reopensRegistration
                )
                if var reg = state.facts.registrations[payment.registrationID] {
                    reg.paidThrough = payment.newPaidThrough
                    reg.ended = false
                    state.facts.registrations[payment.registrationID] = reg
                }
                log("confirmed", key: key)
            case .rejected(let errors):
                event = PaymentRejectedEvent(draft: draft, errors: errors, eventID: UUID(), occurredAt: decidedAt)
                log("rejected", key: key, reasons: errors.map(\.code.rawValue))
            }
            settle(event, kind: "payment", key: key, identity: identity, context: c, state: &state, writes: &writes)
        }
    }

    /// Records a command's outcome (for replays) and queues its event.
    private func settle(_ event: any PeduliEvent, kind: String, key: String?, identity: String, context: Context,
                        state: inout BatchState, writes: inout BatchWrites) {
        let body = event.jsonValue().canonicalString()
        if let key {
            writes.outcomes.append(OutcomeRow(kind: kind, key: key, identity: identity, eventType: event.eventType, body: body))
            state.facts.outcomes[kind + "\u{0}" + key] = StoredOutcome(
                eventType: event.eventType, eventBody: body, identity: identity)
        }
        writes.outbox.append(.event(
            type: event.eventType, eventID: event.eventID, body: Array(body.utf8), correlationID: context.correlationID,
            occurredAt: event.occurredAt, pipeline: pipeline))
    }

    private func replay(_ stored: StoredOutcome, context: Context, at time: Date) -> OutboxMessage {
        var body = (try? JSONParser.parse(stored.eventBody))?.objectValue ?? JSONObject()
        let eventID = UUID()
        body["event_id"] = .string(eventID.canonicalString)
        body["occurred_at"] = .string(RFC3339.format(time))
        body["replayed"] = .bool(true)
        return .event(
            type: stored.eventType, eventID: eventID, body: JSONValue.object(body).canonicalJSON(),
            correlationID: context.correlationID, occurredAt: time, pipeline: pipeline)
    }

    /// The message as it arrived, with the reason headers, bound for `peduli.dead`. RabbitMQ only lets the
    /// worker publish its own `user_id`, so the original one travels in `x-peduli-user-id`.
    private func parkedCopy(_ c: Context, reason: ParkReason, detail: String) -> OutboxMessage {
        var properties = c.delivery.properties
        var headers = properties.headers ?? AMQPTable()
        headers["x-peduli-reason"] = .string(reason.rawValue)
        headers["x-peduli-detail"] = .string(String(detail.prefix(200)))
        headers["x-peduli-queue"] = .string(c.queue)
        headers["x-peduli-user-id"] = c.publisher.map(AMQPFieldValue.string)
        properties.headers = headers
        properties.userId = nil
        return OutboxMessage(
            exchange: pipeline.topology.deadExchange, routingKey: c.delivery.routingKey, properties: properties,
            body: c.delivery.body)
    }

    /// A copy for the delayed-retry queue, under the worker's own validated user, carrying the attempt number
    /// and the original publisher.
    private func retryCopy(_ c: Context, queue: String) -> OutboxMessage {
        var properties = c.delivery.properties
        var headers = properties.headers ?? AMQPTable()
        headers["x-peduli-attempt"] = .int32(Int32(c.attempt + 1))
        headers["x-peduli-user-id"] = c.publisher.map(AMQPFieldValue.string)
        properties.headers = headers
        properties.userId = workerUser
        return OutboxMessage(exchange: "", routingKey: queue, properties: properties, body: c.delivery.body)
    }

    private func write(_ w: BatchWrites, on db: PostgresConnection) throws {
        var statements: [PostgresStatement] = []
        statements.append(PostgresStatement(
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
                PostgresArray.text(w.log.map(\.command)), PostgresArray.text(w.log.map(\.key)),
                PostgresArray.text(w.log.map(\.outcome)), PostgresArray.joined(w.log.map(\.reasons)),
                PostgresArray.bool(w.log.map(\.redelivered)),
            ]))
        if !w.ended.isEmpty {
            statements.append(PostgresStatement(
                "UPDATE registrations SET ended_at = now() WHERE registration_id = ANY($1::uuid[]) AND ended_at IS NULL",
                [PostgresArray.text(w.ended.map(\.canonicalString))]))
        }
        if !w.registrations.isEmpty {
            let r = w.registrations
            statements.append(PostgresStatement(
                """
                INSERT INTO registrations (registration_id, submitted_at, accepted_at, sponsor_nip, nik, worker_name,
                    birth_date, gender, phone, occupation, work_status, kecamatan, kelurahan, address, source,
                    monthly_contribution, first_due_date)
                SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[],
                    $6::text[], $7::date[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                    $14::text[], $15::text[], $16::int[], $17::date[])
                """,
                [
                    PostgresArray.text(r.map { $0.registrationID.canonicalString }),
                    PostgresArray.text(r.map { PostgresText.encodeTimestamp($0.submittedAt) }),
                    PostgresArray.text(r.map { PostgresText.encodeTimestamp($0.acceptedAt) }),
                    PostgresArray.text(r.map { $0.sponsorNIP.value }),
                    PostgresArray.text(r.map { $0.nik.digits }),
                    PostgresArray.text(r.map(\.workerName)),
                    PostgresArray.text(r.map { $0.birthDate.description }),
                    PostgresArray.text(r.map { $0.gender.rawValue }),
                    PostgresArray.text(r.map { $0.phone?.e164 }),
                    PostgresArray.text(r.map { $0.occupation.code }),
                    PostgresArray.text(r.map { $0.workStatus.rawValue }),
                    PostgresArray.text(r.map { $0.kecamatan.code }),
                    PostgresArray.text(r.map { $0.kelurahan?.code }),
                    PostgresArray.text(r.map { $0.address?.text }),
                    PostgresArray.text(r.map { $0.source.rawValue }),
                    PostgresArray.int(r.map { Int($0.monthlyContribution) }),
                    PostgresArray.text(r.map { $0.firstDueDate.description }),
                ]))
        }
        if !w.payments.isEmpty {
            let p = w.payments
            // With the payments, the months each covers, one row each: two payments of one registration for
            // the same month violate the primary key, and the batch is decided again on the state that won.
            statements.append(PostgresStatement(
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
            statements.append(PostgresStatement(
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
            statements.append(PostgresStatement(
                """
                INSERT INTO command_outcomes (kind, command_key, content_hash, event_type, event_body)
                SELECT k, c, sha256(convert_to(i, 'UTF8')), t, b
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(k, c, i, t, b)
                """,
                [
                    PostgresArray.text(o.map(\.kind)), PostgresArray.text(o.map(\.key)),
                    PostgresArray.text(o.map(\.identity)), PostgresArray.text(o.map(\.eventType)),
                    PostgresArray.text(o.map(\.body)),
                ]))
        }
        if !w.outbox.isEmpty {
            statements.append(OutboxMessage.insert(w.outbox))
            statements.append(PostgresStatement("SELECT pg_notify($1, '')", [OutboxRelay.notifyChannel]))
        }
        let results = try db.pipeline(statements)
        // Another instance settled one of these messages at the same moment: decide the batch again. (A parked
        // row claims nothing, so it is always inserted.)
        if results[0].affectedRows != w.log.count {
            throw PostgresError(code: .server, operation: "claim", message: "a message of the batch was settled concurrently")
        }
    }

    /// A rejected registration as a payment sees it: only its status matters (`registration_not_accepted`).
    static let rejectedRegistration = RegistrationState(
        status: .rejected, submittedAt: .distantPast, acceptedAt: nil,
        birthDate: JakartaDate(year: 1970, month: 1, clampingDay: 1), paidThrough: nil)

    static func yearMonth(_ row: PostgresRow, _ column: String) throws -> YearMonth? {
        if try row.isNull(column) { return nil }
        let date = try row.date(column)
        return YearMonth(year: date.year, month: date.month)
    }
}

