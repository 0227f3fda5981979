import AMQPClient
import Foundation
import PeduliDomain
import PeduliSamples
import Testing

@testable import PeduliWorker

/// The batch decider without PostgreSQL: facts built by hand, commands decoded from realistic samples, one
/// row per outcome kind the integration tests reach through the broker and the database.
struct BatchDeciderTests {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28, Jakarta
    static let samples = SampleWorkload(reference: now)
    static let pipeline = PipelineConfiguration()
    static let decoder = InboundDecoder(
        check: InboundCheck(allowedPublishers: [], maxMessageBytes: 65_536, workerUser: "peduli-worker"),
        programme: .default, topology: pipeline.topology)
    static let decider = BatchDecider(programme: .default, pipeline: pipeline, workerUser: "peduli-worker")
    static let sponsor = samples.sponsor(1)
    static let other = samples.sponsor(2)
    static let worker = samples.registration(1, sponsor: sponsor)
    static let payment = samples.payment(1, for: worker, payer: sponsor)

    /// A decoded command as the consumer would hand it over.
    static func command(
        _ body: JSONValue, _ kind: CommandKind = .registration, id: String? = nil, user: String? = "portal",
        headers: AMQPTable? = nil, raw: [UInt8]? = nil
    ) -> InboundCommand {
        let delivery = AMQPDelivery(
            deliveryTag: 1, redelivered: false, exchange: "peduli.inbound",
            routingKey: kind == .payment ? "payment.submit" : "registration.submit", consumerTag: "any",
            properties: AMQPProperties(
                contentType: "application/json", headers: headers, deliveryMode: 2,
                messageId: id ?? "m-\(UUID().uuidString)", userId: user),
            body: raw ?? body.canonicalJSON())
        return decoder.decode(InboundDelivery(kind: kind, delivery: delivery), now: now)
    }

    static func registration(_ index: Int = 1, id: String? = nil) -> InboundCommand {
        command(index == 1 ? worker.body : samples.registration(index, sponsor: sponsor).body, id: id)
    }

    static func paymentCommand(attempt: Int? = nil) -> InboundCommand {
        let headers: AMQPTable? = attempt.map {
            ["x-peduli-attempt": .int32(Int32($0)), "x-peduli-user-id": .string("portal")]
        }
        return command(payment.body, .payment, user: attempt == nil ? "portal" : "peduli-worker", headers: headers)
    }

    static func facts(_ change: (inout BatchFacts) -> Void = { _ in }) -> BatchFacts {
        var facts = BatchFacts()
        facts.sponsors[sponsor.nip] = .active
        facts.receipts = [41, 42]
        change(&facts)
        return facts
    }

    static var acceptedState: RegistrationState {
        RegistrationState(
            status: .accepted, submittedAt: now.addingTimeInterval(-86_400 * 10),
            acceptedAt: now.addingTimeInterval(-86_400 * 10), birthDate: worker.birthDate, paidThrough: nil)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var facts: BatchFacts
        var commands: [InboundCommand]
        /// The log rows' outcomes, `outcome` or `outcome:first reason`, in order.
        var outcomes: [String]
        var duplicates = 0
        /// Event types in the outbox, in order (`dead` for a parked copy, `retry` for a retry copy).
        var outbox: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "accepted", facts: facts(), commands: [registration()], outcomes: ["accepted"],
            outbox: ["registration.accepted"]),
        Case(
            name: "unknown sponsor", facts: facts { $0.sponsors = [:] }, commands: [registration()],
            outcomes: ["rejected:unknown_sponsor"], outbox: ["registration.rejected"]),
        Case(
            name: "inactive sponsor", facts: facts { $0.sponsors[sponsor.nip] = .inactive }, commands: [registration()],
            outcomes: ["rejected:inactive_sponsor"], outbox: ["registration.rejected"]),
        Case(
            name: "covered by another scheme", facts: facts { $0.coveredNIKs = [worker.nik] },
            commands: [registration()], outcomes: ["rejected:covered_by_other_scheme"],
            outbox: ["registration.rejected"]),
        Case(
            name: "the NIK has an open registration",
            facts: facts {
                $0.openByNIK[worker.nik] = [
                    OpenRegistration(
                        id: UUID(), acceptedAt: now.addingTimeInterval(-86_400),
                        paidThrough: nil)
                ]
            },
            commands: [registration()], outcomes: ["rejected:already_registered"], outbox: ["registration.rejected"]),
        Case(
            name: "a lapsed registration does not block a new one",
            facts: facts {
                $0.openByNIK[worker.nik] = [
                    OpenRegistration(
                        id: UUID(), acceptedAt: now.addingTimeInterval(-86_400 * 400),
                        paidThrough: nil)
                ]
            },
            commands: [registration()], outcomes: ["accepted"], outbox: ["registration.accepted"]),
        Case(
            name: "two registrations of one NIK in one batch",
            facts: facts(),
            commands: [
                registration(), command(worker.body.setting("registration_id", to: .string(UUID().uuidString))),
            ],
            outcomes: ["accepted", "rejected:already_registered"],
            outbox: ["registration.accepted", "registration.rejected"]),
        Case(
            name: "a resend in the same batch is replayed", facts: facts(), commands: [registration(), registration()],
            outcomes: ["accepted", "replayed"], outbox: ["registration.accepted", "registration.accepted"]),
        Case(
            name: "other content under the same registration_id in one batch is parked", facts: facts(),
            commands: [registration(), command(worker.body.setting("worker.name", to: "Lain Orang"))],
            outcomes: ["accepted", "parked:conflicting_duplicate"], outbox: ["registration.accepted", "dead"]),
        Case(
            name: "decided before with the same content: replayed",
            facts: facts { f in
                let key = CommandKey(kind: .registration, key: worker.registrationID.canonicalString)
                f.outcomes[key] = StoredOutcome(
                    eventType: "registration.accepted", eventBody: #"{"a":1}"#, identity: nil)
                f.sameContent[ContentProbe(command: key, identity: identity(worker.body))] = true
            },
            commands: [registration()], outcomes: ["replayed"], outbox: ["registration.accepted"]),
        Case(
            name: "decided before with other content: parked",
            facts: facts { f in
                let key = CommandKey(kind: .registration, key: worker.registrationID.canonicalString)
                f.outcomes[key] = StoredOutcome(eventType: "registration.accepted", eventBody: "{}", identity: nil)
                f.sameContent[ContentProbe(command: key, identity: identity(worker.body))] = false
            },
            commands: [registration()], outcomes: ["parked:conflicting_duplicate"], outbox: ["dead"]),
        Case(
            name: "a message settled before is a no-op",
            facts: facts { $0.processed = [InboxKey(messageID: "m-seen", attempt: 0)] },
            commands: [registration(id: "m-seen")], outcomes: [], duplicates: 1, outbox: []),
        Case(
            name: "the same message twice in a batch settles once", facts: facts(),
            commands: [registration(id: "m-twice"), registration(2, id: "m-twice")], outcomes: ["accepted"],
            duplicates: 1, outbox: ["registration.accepted"]),
        Case(
            name: "junk under a portal's id claims nothing", facts: facts(),
            commands: [command(.null, id: "portal-42", raw: Array("{oops".utf8)), registration(id: "portal-42")],
            outcomes: ["parked:malformed_json", "accepted"], outbox: ["dead", "registration.accepted"]),
        Case(
            name: "a body that is not an object", facts: facts(), commands: [command(.array([]))],
            outcomes: ["parked:malformed_json"], outbox: ["dead"]),
        Case(
            name: "no message id", facts: facts(), commands: [command(worker.body, id: "")],
            outcomes: ["parked:missing_message_id"], outbox: ["dead"]),
        Case(
            name: "payment confirmed", facts: facts { $0.registrations[worker.registrationID] = acceptedState },
            commands: [paymentCommand()], outcomes: ["confirmed"], outbox: ["payment.confirmed"]),
        Case(
            name: "payment for an unknown registration waits", facts: facts(), commands: [paymentCommand()],
            outcomes: ["retry_scheduled:unknown_registration"], outbox: ["retry"]),
        Case(
            name: "payment for an unknown registration on the last attempt", facts: facts(),
            commands: [paymentCommand(attempt: 4)], outcomes: ["rejected:unknown_registration"],
            outbox: ["payment.rejected"]),
        Case(
            name: "payment for a rejected registration",
            facts: facts { $0.registrations[worker.registrationID] = BatchFacts.rejectedRegistration },
            commands: [paymentCommand()], outcomes: ["rejected:registration_not_accepted"],
            outbox: ["payment.rejected"]),
        Case(
            name: "payment by a payer not on the roster",
            facts: facts {
                $0.registrations[worker.registrationID] = acceptedState; $0.sponsors = [:]
            },
            commands: [paymentCommand()], outcomes: ["rejected:unknown_sponsor"], outbox: ["payment.rejected"]),
        Case(
            name: "payment for an erased registration (the store reads it as ended, NIK registered again)",
            facts: facts {
                var erased = acceptedState
                erased.ended = true
                erased.nikRegisteredAgain = true
                $0.registrations[worker.registrationID] = erased
            },
            commands: [paymentCommand()], outcomes: ["rejected:membership_ended"], outbox: ["payment.rejected"]),
        Case(
            name: "a registration and its payment in one batch", facts: facts(),
            commands: [registration(), paymentCommand()], outcomes: ["accepted", "confirmed"],
            outbox: ["registration.accepted", "payment.confirmed"]),
    ]

    static func identity(_ body: JSONValue) -> String { String(decoding: body.commandIdentityBytes(), as: UTF8.self) }

    static func summary(_ message: OutboxMessage) -> String {
        if message.exchange == pipeline.topology.deadExchange { return "dead" }
        if message.routingKey.hasPrefix(pipeline.topology.retryQueuePrefix) { return "retry" }
        return message.routingKey
    }

    @Test(arguments: cases)
    func outcomes(_ c: Case) {
        let decision = Self.decider.decide(c.commands, facts: c.facts, at: Self.now)
        #expect(decision.log.map { ([$0.outcome] + $0.reasons.prefix(1)).joined(separator: ":") } == c.outcomes)
        #expect(decision.duplicates.count == c.duplicates)
        #expect(decision.outbox.map(Self.summary) == c.outbox)
    }

    @Test func acceptedRegistrationIsStoredWithItsOutcome() {
        let decision = Self.decider.decide([Self.registration()], facts: Self.facts(), at: Self.now)
        #expect(decision.registrations.map(\.registrationID) == [Self.worker.registrationID])
        #expect(
            decision.outcomes.map(\.command) == [
                CommandKey(kind: .registration, key: Self.worker.registrationID.canonicalString)
            ])
        #expect(decision.outcomes.first?.identity == Self.identity(Self.worker.body))
        #expect(decision.ended.isEmpty)
    }

    @Test func aNewRegistrationEndsTheLapsedOnes() {
        let lapsed = UUID()
        let facts = Self.facts {
            $0.openByNIK[Self.worker.nik] = [
                OpenRegistration(
                    id: lapsed, acceptedAt: Self.now.addingTimeInterval(-86_400 * 400),
                    paidThrough: nil)
            ]
        }
        #expect(Self.decider.decide([Self.registration()], facts: facts, at: Self.now).ended == [lapsed])
    }

    @Test func aReplayRendersTheStoredEventAnew() throws {
        let stored = Self.decider.decide([Self.registration()], facts: Self.facts(), at: Self.now)
        let row = try #require(stored.outcomes.first)
        let later = Self.now.addingTimeInterval(3600)
        let facts = Self.facts {
            $0.outcomes[row.command] = StoredOutcome(
                eventType: row.eventType, eventBody: row.body, identity: row.identity)
        }
        let replayID = UUID()
        let replay = Self.decider.decide([Self.registration()], facts: facts, at: later, newEventID: { replayID })
        let body = try JSONParser.parse(try #require(replay.outbox.first).body).objectValue ?? JSONObject()
        let first = try JSONParser.parse(row.body).objectValue ?? JSONObject()
        #expect(body["replayed"] == .bool(true))
        #expect(body["event_id"] == .string(replayID.canonicalString))
        #expect(body["occurred_at"] == .string(RFC3339.format(later)))
        #expect(body["registration_id"] == first["registration_id"])
        #expect(first["replayed"] == .bool(false))
    }

    @Test func receiptsAreTakenInOrder() {
        let facts = Self.facts { $0.registrations[Self.worker.registrationID] = Self.acceptedState }
        let decision = Self.decider.decide([Self.paymentCommand()], facts: facts, at: Self.now)
        #expect(decision.payments.map(\.receipt) == [ReceiptNumber.format(year: 2026, sequence: 41)])
        #expect(decision.paidThrough[Self.worker.registrationID]?.reopen == false)
    }

    @Test func aRetryCopyCarriesTheNextAttemptAndTheOriginalPublisher() throws {
        let decision = Self.decider.decide([Self.paymentCommand(attempt: 1)], facts: Self.facts(), at: Self.now)
        let copy = try #require(decision.outbox.first)
        #expect(copy.routingKey == Self.pipeline.topology.retryQueue(for: Self.pipeline.topology.retryDelays[1]))
        #expect(copy.properties.headers?["x-peduli-attempt"]?.int64Value == 2)
        #expect(copy.properties.headers?["x-peduli-user-id"]?.stringValue == "portal")
        #expect(copy.properties.userId == "peduli-worker")
    }

    @Test func aParkedCopyKeepsTheMessageAndSaysWhy() throws {
        let junk = Self.command(.null, id: "bad-1", raw: Array("nope".utf8))
        let copy = try #require(Self.decider.decide([junk], facts: Self.facts(), at: Self.now).outbox.first)
        #expect(copy.body == Array("nope".utf8))
        #expect(copy.properties.messageId == "bad-1")
        #expect(copy.properties.userId == "peduli-worker")
        #expect(copy.properties.headers?["x-peduli-reason"]?.stringValue == "malformed_json")
        #expect(copy.properties.headers?["x-peduli-parked-at"] == .timestamp(UInt64(Self.now.timeIntervalSince1970)))
        #expect(copy.properties.headers?["x-peduli-user-id"]?.stringValue == "portal")
        #expect(copy.properties.headers?["x-peduli-queue"]?.stringValue == Self.pipeline.topology.registrationsQueue)
    }
}
