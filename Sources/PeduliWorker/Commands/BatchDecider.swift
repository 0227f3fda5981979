import AMQPClient
import Foundation
import PeduliDomain

/// Decides a batch of commands from the database's facts: the inbox, replays and conflicts, the programme's
/// rules, and what to write and publish. Pure: no database, no broker, no clock, no metrics; the same facts and
/// commands give the same decision, which is what the table-driven tests check.
///
/// Decisions inside a batch see the effects of the earlier commands of the same batch (two registrations of
/// one NIK, a payment right after its registration, a resend of a command decided a moment before).
struct BatchDecider: Sendable {
    let programme: ProgrammeConfiguration
    let pipeline: PipelineConfiguration
    let copies: CommandCopies

    init(programme: ProgrammeConfiguration, pipeline: PipelineConfiguration, workerUser: String?) {
        self.programme = programme
        self.pipeline = pipeline
        self.copies = CommandCopies(topology: pipeline.topology, workerUser: workerUser)
    }

    /// - Parameters:
    ///   - decidedAt: the decision time (acceptance time, event times, the Jakarta date for grace).
    ///   - newEventID: a fresh id for each event.
    func decide(
        _ batch: [InboundCommand], facts: BatchFacts, at decidedAt: Date,
        newEventID: @escaping () -> UUID = UUID.init
    ) -> BatchDecision {
        var run = Run(facts: facts, decidedAt: decidedAt, newEventID: newEventID, decider: self)
        for command in batch { run.decide(command) }
        return run.decision
    }

    /// One batch's decisions so far, layered over the facts from the database.
    private struct Run {
        var facts: BatchFacts
        let decidedAt: Date
        let newEventID: () -> UUID
        let decider: BatchDecider
        var decision = BatchDecision()
        var receiptIndex = 0

        init(facts: BatchFacts, decidedAt: Date, newEventID: @escaping () -> UUID, decider: BatchDecider) {
            self.facts = facts
            self.decidedAt = decidedAt
            self.newEventID = newEventID
            self.decider = decider
        }

        var programme: ProgrammeConfiguration { decider.programme }

        mutating func log(_ c: InboundCommand.Context, _ outcome: String, key: String?, reasons: [String] = []) {
            decision.log.append(
                .init(
                    messageID: c.messageID, attempt: c.attempt, queue: c.queue, publisher: c.publisher, command: c.kind,
                    key: key, outcome: outcome, reasons: reasons, redelivered: c.delivery.redelivered))
        }

        mutating func park(_ c: InboundCommand.Context, _ reason: ParkReason, _ detail: String, key: String?) {
            decision.outbox.append(decider.copies.parked(c, reason: reason, detail: detail, at: decidedAt))
            log(c, "parked", key: key, reasons: [reason.rawValue])
        }

        mutating func decide(_ command: InboundCommand) {
            let c = command.context
            // A parked message claims no inbox id (docs/contract.md), so junk sent under a portal's id first
            // cannot make the portal's real command a no-op.
            if case .park(let reason, let detail) = command.body {
                park(c, reason, detail, key: nil)
                return
            }
            // The inbox: the same message (and retry attempt) settles once.
            let inboxKey = c.messageID.map { InboxKey(messageID: $0, attempt: c.attempt) }
            if let inboxKey {
                if facts.processed.contains(inboxKey) {
                    decision.duplicates.append(c.kind)
                    return
                }
                facts.processed.insert(inboxKey)
            }
            switch command.body {
            case .park:
                return  // settled above
            case .registration(let draft, let identity):
                let key = draft.registrationID.map(\.canonicalString)
                if settledEarlier(c, key: key, identity: identity, inboxKey: inboxKey) { return }
                decideRegistration(c, draft, key: key, identity: identity)
            case .payment(let draft, let identity):
                if settledEarlier(c, key: draft.paymentID, identity: identity, inboxKey: inboxKey) { return }
                decidePayment(c, draft, key: draft.paymentID, identity: identity)
            }
        }

        /// A command key decided before: the same content is replayed, other content is parked (and gives its
        /// inbox claim back, as every parked message does). True when the command is settled that way.
        mutating func settledEarlier(
            _ c: InboundCommand.Context, key: String?, identity: String,
            inboxKey: InboxKey?
        ) -> Bool {
            guard let key else { return false }
            let commandKey = CommandKey(kind: c.kind, key: key)
            guard let stored = facts.outcomes[commandKey] else { return false }
            let same =
                stored.identity.map { $0 == identity }
                ?? facts.sameContent[ContentProbe(command: commandKey, identity: identity)] ?? false
            if same {
                let event = ReplayedEvent(
                    eventType: stored.eventType, storedBody: stored.eventBody, eventID: newEventID(),
                    occurredAt: decidedAt)
                decision.outbox.append(decider.eventMessage(event, body: event.json(), context: c))
                log(c, "replayed", key: key)
            } else {
                let field = c.kind == .payment ? "payment_id" : "registration_id"
                park(c, .conflictingDuplicate, "\(field) was decided before with other content", key: key)
                if let inboxKey { facts.processed.remove(inboxKey) }
            }
            return true
        }

        mutating func decideRegistration(
            _ c: InboundCommand.Context, _ draft: RegistrationDraft, key: String?,
            identity: String
        ) {
            var known = RegistrationFacts(sponsor: draft.lookupSponsorNIP.flatMap { facts.sponsors[$0] })
            var lapsed: [UUID] = []
            if let nik = draft.lookupNIK?.digits {
                known.coveredByOtherScheme = facts.coveredNIKs.contains(nik)
                let open = Grace.classify(facts.openByNIK[nik] ?? [], on: JakartaDate(decidedAt), config: programme)
                known.hasActiveRegistration = open.hasOpen
                lapsed = open.lapsed
            }
            let event: any PeduliEvent
            switch PeduliDomain.decideRegistration(draft, facts: known, config: programme, acceptedAt: decidedAt) {
            case .accepted(let accepted):
                event = RegistrationAcceptedEvent(accepted, eventID: newEventID(), occurredAt: decidedAt)
                decision.registrations.append(accepted)
                decision.ended += lapsed
                facts.openByNIK[accepted.nik.digits] = [
                    OpenRegistration(id: accepted.registrationID, acceptedAt: decidedAt, paidThrough: nil)
                ]
                facts.registrations[accepted.registrationID] = RegistrationState(
                    status: .accepted, submittedAt: accepted.submittedAt, acceptedAt: decidedAt,
                    birthDate: accepted.birthDate, paidThrough: nil)
                log(c, "accepted", key: key, reasons: accepted.warnings.map(\.code.rawValue))
            case .rejected(let errors):
                event = RegistrationRejectedEvent(
                    draft: draft, errors: errors, eventID: newEventID(),
                    occurredAt: decidedAt)
                if let id = draft.registrationID { facts.registrations[id] = BatchFacts.rejectedRegistration }
                log(c, "rejected", key: key, reasons: errors.map(\.code.rawValue))
            }
            settle(event, context: c, key: key, identity: identity)
        }

        mutating func decidePayment(
            _ c: InboundCommand.Context, _ draft: PaymentDraft, key: String?,
            identity: String
        ) {
            let known = PaymentFacts(
                payer: draft.lookupPayerNIP.flatMap { facts.sponsors[$0] },
                registration: draft.lookupRegistrationID.flatMap { facts.registrations[$0] })
            let delays = decider.pipeline.topology.retryDelays
            let event: any PeduliEvent
            switch PeduliDomain.decidePayment(
                draft, facts: known, config: programme,
                finalAttempt: c.attempt >= delays.count)
            {
            case .unknownRegistration:
                let queue = decider.pipeline.topology.retryQueue(for: delays[c.attempt])
                decision.outbox.append(decider.copies.retry(c, queue: queue))
                log(c, "retry_scheduled", key: key, reasons: ["unknown_registration"])
                return
            case .confirmed(let payment):
                let receipt = ReceiptNumber.format(year: JakartaDate(decidedAt).year, sequence: takeReceipt())
                event = PaymentConfirmedEvent(
                    payment, receiptNumber: receipt, eventID: newEventID(),
                    occurredAt: decidedAt)
                decision.payments.append((payment, receipt))
                let reopen =
                    (decision.paidThrough[payment.registrationID]?.reopen ?? false)
                    || payment.reopensRegistration
                decision.paidThrough[payment.registrationID] = .init(month: payment.newPaidThrough, reopen: reopen)
                if var registration = facts.registrations[payment.registrationID] {
                    registration.paidThrough = payment.newPaidThrough
                    registration.ended = false
                    facts.registrations[payment.registrationID] = registration
                }
                log(c, "confirmed", key: key)
            case .rejected(let errors):
                event = PaymentRejectedEvent(draft: draft, errors: errors, eventID: newEventID(), occurredAt: decidedAt)
                log(c, "rejected", key: key, reasons: errors.map(\.code.rawValue))
            }
            settle(event, context: c, key: key, identity: identity)
        }

        mutating func takeReceipt() -> Int64 {
            defer { receiptIndex += 1 }
            return facts.receipts[receiptIndex]
        }

        /// Records a command's outcome (for replays) and queues its event.
        mutating func settle(
            _ event: any PeduliEvent, context c: InboundCommand.Context, key: String?,
            identity: String
        ) {
            let body = event.jsonValue().canonicalString()
            if let key {
                let commandKey = CommandKey(kind: c.kind, key: key)
                decision.outcomes.append(
                    .init(
                        command: commandKey, identity: identity, eventType: event.eventType, body: body))
                facts.outcomes[commandKey] = StoredOutcome(
                    eventType: event.eventType, eventBody: body, identity: identity)
            }
            decision.outbox.append(decider.eventMessage(event, body: Array(body.utf8), context: c))
        }
    }

    /// An event bound for `peduli.events`, correlated with the command that caused it and carrying its
    /// trace context (`TraceContext`: a valid `traceparent` and its `tracestate`, nothing otherwise).
    func eventMessage(_ event: any PeduliEvent, body: [UInt8], context c: InboundCommand.Context) -> OutboxMessage {
        .event(
            type: event.eventType, eventID: event.eventID, body: body, correlationID: c.correlationID,
            occurredAt: event.occurredAt, pipeline: pipeline,
            trace: TraceContext(headers: c.delivery.properties.headers))
    }
}
