import Foundation
import Testing

@testable import PeduliDomain

struct EventsTests {
    let eventID = UUID(uuidString: "11111111-2222-4333-8444-555555555555")!
    let occurredAt = instant("2026-11-20T02:16:00Z")

    func accepted() throws -> AcceptedRegistration {
        let draft = RegistrationDraft.decode(registration(), config: config, now: registrationNow)
        guard
            case .accepted(let a) = decideRegistration(
                draft, facts: activeFacts, config: config, acceptedAt: registrationNow)
        else {
            throw CancellationError()
        }
        return a
    }

    func assertNoPersonalData(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        for secret in ["3374015203800001", "81234567890", "Pemuda", "1980-03-12"] {
            #expect(!text.contains(secret), "event leaks \(secret)")
        }
    }

    @Test func registrationAccepted() throws {
        let e = RegistrationAcceptedEvent(try accepted(), eventID: eventID, occurredAt: occurredAt)
        #expect(e.eventType == "registration.accepted")
        #expect(
            String(decoding: e.json(), as: UTF8.self) == """
                {"event_id":"11111111-2222-4333-8444-555555555555","event_type":"registration.accepted",\
                "first_due_date":"2026-12-04","monthly_contribution":16800,"occurred_at":"2026-11-20T09:16:00+07:00",\
                "registration_id":"3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10","replayed":false,"sponsor_nip":"198503152010011002",\
                "warnings":[],"worker":{"kecamatan":"337401","kecamatan_name":"Semarang Tengah","name":"Siti Aminah",\
                "nik_masked":"3374********0001","occupation":"P050","occupation_name":"PEDAGANG"}}
                """)
        assertNoPersonalData(e.json())
        #expect(try JSONParser.parse(e.json()) == e.jsonValue())
    }

    @Test func registrationRejectedKeepsUnknownNIPAndNullsMalformedOnes() throws {
        let bad = RegistrationDraft.decode(
            registration([("registration_id", "x"), ("sponsor.nip", "1")]), config: config, now: registrationNow)
        let e1 = RegistrationRejectedEvent(
            draft: bad, errors: bad.errors, eventID: eventID, occurredAt: occurredAt, replayed: true)
        let v1 = try #require(e1.jsonValue().objectValue)
        #expect(v1["registration_id"] == .null)
        #expect(v1["sponsor_nip"] == .null)
        #expect(v1["replayed"] == .bool(true))
        #expect(v1["errors"] == .array(bad.errors.map(\.json)))

        let good = RegistrationDraft.decode(registration(), config: config, now: registrationNow)
        guard
            case .rejected(let errs) = decideRegistration(
                good, facts: RegistrationFacts(sponsor: nil), config: config, acceptedAt: registrationNow)
        else {
            Issue.record("expected rejection")
            return
        }
        let e2 = RegistrationRejectedEvent(draft: good, errors: errs, eventID: eventID, occurredAt: occurredAt)
        #expect(e2.jsonValue().objectValue?["sponsor_nip"] == "198503152010011002")
        #expect(e2.jsonValue().objectValue?["registration_id"] == "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10")
        #expect(
            String(decoding: e2.json(), as: UTF8.self).contains(
                #"{"code":"unknown_sponsor","field":"sponsor.nip","message":"#))
        assertNoPersonalData(e2.json())
    }

    @Test func paymentEvents() throws {
        let draft = PaymentDraft.decode(payment(), config: config, now: paymentNow)
        guard
            case .confirmed(let c) = decidePayment(
                draft, facts: PaymentFacts(payer: .active, registration: registrationState()), config: config)
        else {
            Issue.record("expected confirmation")
            return
        }
        let e = PaymentConfirmedEvent(
            c, receiptNumber: ReceiptNumber.format(year: 2026, sequence: 123), eventID: eventID, occurredAt: occurredAt)
        #expect(
            String(decoding: e.json(), as: UTF8.self) == """
                {"amount":50400,"covered_from":"2026-12","covered_through":"2027-02","event_id":"11111111-2222-4333-8444-555555555555",\
                "event_type":"payment.confirmed","months":3,"occurred_at":"2026-11-20T09:16:00+07:00","payer_nip":"198503152010011002",\
                "payment_id":"BJTG-20261201-000123","receipt_number":"PPR-2026-000123","registration_id":"3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10",\
                "replayed":false}
                """)
        let bad = PaymentDraft.decode(payment([("payment_id", "a b"), ("amount", 1)]), config: config, now: paymentNow)
        let r = PaymentRejectedEvent(draft: bad, errors: bad.errors, eventID: eventID, occurredAt: occurredAt)
        let o = try #require(r.jsonValue().objectValue)
        #expect(r.eventType == "payment.rejected")
        #expect(o["payment_id"] == .null)
        #expect(o["registration_id"] == "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10")
        #expect(String(decoding: r.json(), as: UTF8.self).contains("Rp 50.400"))
    }

    @Test func reminderEvents() throws {
        let state = RegistrationReminderState(
            acceptedOn: date("2026-11-20"), paidThrough: ym("2027-07"), birthDate: date("1980-03-12"))
        let worker = EventWorker(name: "Siti Aminah", nikMasked: "3374********0001")
        let regID = UUID(uuidString: "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10")!
        func event(on day: String) throws -> JSONObject {
            let r = try #require(remindersDue(for: state, on: date(day), config: config).first)
            let e = ReminderEvent(
                r, registrationID: regID, sponsorNIP: "198503152010011002", worker: worker, eventID: eventID,
                occurredAt: occurredAt)
            #expect(e.eventType == r.kind.rawValue)
            assertNoPersonalData(e.json())
            return try #require(e.jsonValue().objectValue)
        }
        let due = try event(on: "2027-08-08")
        #expect(due["event_type"] == "reminder.payment_due")
        #expect(due["paid_through"] == "2027-07")
        #expect(due["due_month"] == "2027-08")
        #expect(due["due_date"] == "2027-08-15")
        #expect(due["amount_due"] == 16_800)
        #expect(due["arrears_months"] == nil)
        #expect(due["worker"] == ["name": "Siti Aminah", "nik_masked": "3374********0001"])
        let overdue = try event(on: "2027-09-20")
        #expect(overdue["event_type"] == "reminder.payment_overdue")
        #expect(overdue["arrears_months"] == 2)
        #expect(overdue["amount_due"] == 33_600)
        #expect(overdue["membership_ends_after"] == "2027-10-31")
        let ended = try event(on: "2027-11-01")
        #expect(ended["event_type"] == "membership.ended")
        #expect(
            ended.keys.sorted() == [
                "event_id", "event_type", "occurred_at", "paid_through", "registration_id", "sponsor_nip", "worker",
            ])
        let old = RegistrationReminderState(
            acceptedOn: date("2025-06-01"), paidThrough: ym("2026-05"), birthDate: date("1961-05-20"))
        let r = try #require(remindersDue(for: old, on: date("2026-05-02"), config: config).first)
        let age = ReminderEvent(
            r, registrationID: regID, sponsorNIP: "198503152010011002", worker: worker, eventID: eventID,
            occurredAt: occurredAt)
        #expect(age.jsonValue().objectValue?["last_coverable_month"] == "2026-05")
        #expect(age.eventType == "reminder.age_limit")
    }

    @Test func eventStringsAreEscaped() {
        let v = RuleViolation(field: "a\"b", code: .invalidValue, message: "x\ny\\")
        #expect(v.json.canonicalString() == #"{"code":"invalid_value","field":"a\"b","message":"x\ny\\"}"#)
    }
}
