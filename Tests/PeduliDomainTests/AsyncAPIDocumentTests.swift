import Foundation
import PeduliDomain
import PeduliSamples
import Testing
import Yams

/// docs/asyncapi.yaml is what portal and notification teams read: it must describe exactly the events the
/// domain writes. Every event type is built here from the real types and compared field by field with the
/// document (top level and the `worker` object), and the error-code enum with `RuleCode`.
struct AsyncAPIDocumentTests {
    static var document: [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/asyncapi.yaml")
        let text = try! String(contentsOf: url, encoding: .utf8)
        return try! Yams.load(yaml: text) as! [String: Any]
    }

    static var schemas: [String: Any] {
        ((document["components"] as! [String: Any])["schemas"] as! [String: Any])
    }

    /// Required and documented property names of a schema, following `$ref` and `allOf`.
    static func fields(_ schema: [String: Any]) -> (required: Set<String>, properties: [String: [String: Any]]) {
        var required = Set<String>()
        var properties: [String: [String: Any]] = [:]
        if let ref = schema["$ref"] as? String {
            return fields(schemas[String(ref.split(separator: "/").last!)] as! [String: Any])
        }
        for part in schema["allOf"] as? [[String: Any]] ?? [] {
            let f = fields(part)
            required.formUnion(f.required)
            properties.merge(f.properties) { a, _ in a }
        }
        required.formUnion(schema["required"] as? [String] ?? [])
        for (key, value) in schema["properties"] as? [String: Any] ?? [:] {
            properties[key, default: [:]].merge(value as? [String: Any] ?? [:]) { a, _ in a }
        }
        return (required, properties)
    }

    static func message(_ eventType: String) -> [String: Any]? {
        let messages = (document["components"] as! [String: Any])["messages"] as! [String: Any]
        return messages.values.compactMap { $0 as? [String: Any] }.first { $0["name"] as? String == eventType }
    }

    /// One real event of each type, built through the domain's own decisions.
    static func sampleEvents() throws -> [any PeduliEvent] {
        let now = Date()
        let samples = SampleWorkload(reference: now)
        let config = ProgrammeConfiguration()
        let sponsor = samples.sponsor(1)
        let registration = samples.registration(1, sponsor: sponsor)
        let draft = RegistrationDraft.decode(registration.body, config: config, now: now)
        guard
            case .accepted(let accepted) = decideRegistration(
                draft, facts: RegistrationFacts(sponsor: .active), config: config, acceptedAt: now)
        else { throw DocumentError("sample registration was not accepted") }
        let badDraft = RegistrationDraft.decode(
            registration.body.setting("worker.gender", to: "X"), config: config, now: now)
        let payment = samples.payment(1, for: registration, payer: sponsor, months: 3)
        let paymentDraft = PaymentDraft.decode(payment.body, config: config, now: now)
        let state = RegistrationState(
            status: .accepted, submittedAt: registration.submittedAt, acceptedAt: now,
            birthDate: registration.birthDate, paidThrough: nil)
        guard
            case .confirmed(let confirmed) = decidePayment(
                paymentDraft, facts: PaymentFacts(payer: .active, registration: state), config: config)
        else { throw DocumentError("sample payment was not confirmed") }
        let worker = EventWorker(name: "Siti Aminah", nikMasked: accepted.nik.masked)
        var events: [any PeduliEvent] = [
            RegistrationAcceptedEvent(accepted, eventID: UUID(), occurredAt: now),
            RegistrationRejectedEvent(draft: badDraft, errors: badDraft.errors, eventID: UUID(), occurredAt: now),
            PaymentConfirmedEvent(confirmed, receiptNumber: "PPR-2026-000001", eventID: UUID(), occurredAt: now),
            PaymentRejectedEvent(
                draft: paymentDraft, errors: [.unknownRegistration()], eventID: UUID(), occurredAt: now),
        ]
        // Walk a never-paid registration and an old worker through time to meet every reminder kind.
        let today = JakartaDate(now)
        var kinds = Set<ReminderKind>()
        let states = [
            RegistrationReminderState(acceptedOn: today, paidThrough: nil, birthDate: registration.birthDate),
            RegistrationReminderState(
                acceptedOn: today, paidThrough: today.yearMonth,
                birthDate: today.adding(months: -781)),
        ]
        for s in states {
            for offset in 0..<200 {
                for r in remindersDue(for: s, on: today.adding(days: offset), config: config)
                where kinds.insert(r.kind).inserted {
                    events.append(
                        ReminderEvent(
                            r, registrationID: accepted.registrationID, sponsorNIP: sponsor.nip, worker: worker,
                            eventID: UUID(), occurredAt: now))
                }
            }
        }
        return events
    }

    struct DocumentError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    @Test func everyEventTypeIsDocumentedWithExactlyItsFields() throws {
        let events = try Self.sampleEvents()
        #expect(
            Set(events.map(\.eventType)) == [
                "registration.accepted", "registration.rejected", "payment.confirmed", "payment.rejected",
                "reminder.payment_due", "reminder.payment_overdue", "membership.ended", "reminder.age_limit",
            ])
        for event in events {
            let message = try #require(Self.message(event.eventType), "no message named \(event.eventType)")
            let documented = Self.fields(message["payload"] as! [String: Any])
            guard case .object(let body) = event.jsonValue() else {
                Issue.record("\(event.eventType) is not an object")
                continue
            }
            let written = Set(body.keys)
            #expect(written == Set(documented.properties.keys), "\(event.eventType): fields differ")
            #expect(documented.required.isSubset(of: written), "\(event.eventType): a required field is not written")
            if case .object(let worker)? = body["worker"], let schema = documented.properties["worker"] {
                let nested = Self.fields(schema)
                #expect(Set(worker.keys) == Set(nested.properties.keys), "\(event.eventType): worker fields differ")
                #expect(nested.required.isSubset(of: Set(worker.keys)))
            }
        }
    }

    @Test func errorCodesAreExactlyTheDomainsCodes() {
        let codes = Self.schemas["ErrorCode"] as! [String: Any]
        #expect(Set(codes["enum"] as! [String]) == Set(RuleCode.allCases.map(\.rawValue)))
    }
}
