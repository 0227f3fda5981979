import Foundation
import Testing

@testable import PeduliDomain

func registrationState(
    paidThrough: String? = nil, birth: String = "1980-03-12", submittedAt: String = "2026-11-20T09:15:00+07:00",
    acceptedAt: String = "2026-11-20T09:16:00+07:00", status: RegistrationState.Status = .accepted,
    ended: Bool = false, nikRegisteredAgain: Bool = false
) -> RegistrationState {
    RegistrationState(
        status: status, submittedAt: instant(submittedAt),
        acceptedAt: status == .accepted ? instant(acceptedAt) : nil, birthDate: date(birth),
        paidThrough: paidThrough.map(ym), ended: ended, nikRegisteredAgain: nikRegisteredAgain)
}

/// A valid payment of `months` months at `paidAt` with the right amount.
func paymentBody(months: Int64, paidAt: String) -> JSONValue {
    payment([("months", .int(months)), ("amount", .int(months * 16_800)), ("paid_at", .string(paidAt))])
}

struct PaymentTests {
    func decide(
        _ body: JSONValue, registration: RegistrationState? = registrationState(), payer: SponsorStatus? = .active,
        config: ProgrammeConfiguration = config, now: Date? = nil, finalAttempt: Bool = false
    ) -> PaymentDecision {
        var clock = paymentNow
        if case .object(let o) = body, case .string(let s)? = o["paid_at"], let t = RFC3339.parse(s) {
            clock = max(clock, t)
        }
        let draft = PaymentDraft.decode(body, config: config, now: now ?? clock)
        return decidePayment(
            draft, facts: PaymentFacts(payer: payer, registration: registration), config: config,
            finalAttempt: finalAttempt)
    }

    func errors(_ d: PaymentDecision) -> [String] {
        if case .rejected(let e) = d { return codes(e) }
        return []
    }

    func confirmed(_ d: PaymentDecision) -> ConfirmedPayment? {
        if case .confirmed(let c) = d { return c }
        return nil
    }

    @Test func confirmsTheContractExample() throws {
        let c = try #require(confirmed(decide(payment())))
        #expect(c.coveredFrom == ym("2026-12"))
        #expect(c.coveredThrough == ym("2027-02"))
        #expect(c.newPaidThrough == ym("2027-02"))
        #expect(c.amount == 50_400)
        #expect(c.channel == .autodebet)
        #expect(c.registrationID.canonicalString == "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10")
        #expect(!c.reopensRegistration)
    }

    @Test(
        arguments: [
            ([("payment_id", "")], ["payment_id:invalid_format"]),
            ([("payment_id", "BJTG 1")], ["payment_id:invalid_format"]),
            ([("payment_id", .string(String(repeating: "A", count: 65)))], ["payment_id:invalid_format"]),
            ([("payment_id", .string(String(repeating: "A", count: 64)))], []),
            ([("payment_id", "a.B_9:z-")], []),
            ([("payment_id", nil)], ["payment_id:missing_field"]),
            ([("registration_id", "x")], ["registration_id:invalid_format"]),
            ([("payer_nip", "1985")], ["payer_nip:invalid_nip"]),
            ([("months", 5)], ["months:invalid_months"]),
            ([("months", 0)], ["months:invalid_months"]),
            ([("months", .number("3.0"))], ["months:invalid_type"]),
            ([("months", "3")], ["months:invalid_type"]),
            ([("amount", .number("50400.0"))], ["amount:invalid_type"]),
            ([("amount", .number("5.04e4"))], ["amount:invalid_type"]),
            ([("amount", .number("99999999999999999999"))], ["amount:invalid_type"]),
            ([("amount", 50_000)], ["amount:amount_mismatch"]),
            ([("amount", -50_400)], ["amount:amount_mismatch"]),
            ([("months", 1)], ["amount:amount_mismatch"]),
            ([("months", 1), ("amount", 16_800)], []),
            ([("months", 12), ("amount", 201_600)], []),
            ([("paid_at", "2026-12-01")], ["paid_at:invalid_format"]),
            ([("paid_at", "2026-11-20T09:14:59+07:00")], ["paid_at:paid_before_registration"]),
            ([("paid_at", "2026-11-20T02:15:00Z"), ("months", 1), ("amount", 16_800)], []),
            ([("months", 13)], ["months:invalid_months"]),
            ([("months", -1)], ["months:invalid_months"]),
            ([("months", 2), ("amount", 33_600)], []),
            ([("months", 6), ("amount", 100_800)], []),
            ([("channel", "cash")], ["channel:invalid_value"]),
            ([("channel", "qris")], []),
            ([("schema_version", 3)], ["schema_version:unsupported_schema_version"]),
            ([("extra", .array([1]))], []),
        ] as [([(String, JSONValue?)], [String])])
    func fieldRules(changes: [(String, JSONValue?)], expected: [String]) {
        #expect(errors(decide(payment(changes))) == expected)
    }

    @Test func invalidMonthsGivesNoAmountMismatch() {
        #expect(errors(decide(payment([("months", 4), ("amount", 1)]))) == ["months:invalid_months"])
        #expect(errors(decide(payment([("paid_at", "yesterday"), ("amount", 1)]))) == ["paid_at:invalid_format"])
    }

    @Test func amountMismatchMessageGivesExpectedAmount() {
        guard case .rejected(let e) = decide(payment([("amount", 50_000)])) else {
            Issue.record("not rejected")
            return
        }
        #expect(e.first?.message.contains("Rp 50.400") == true)
    }

    @Test func paidAtInFuture() {
        let body = payment([("paid_at", "2026-12-01T07:06:01+07:00")])
        #expect(errors(decide(body, now: paymentNow)) == ["paid_at:in_future"])
        #expect(errors(decide(payment([("paid_at", "2026-12-01T07:06:00+07:00")]), now: paymentNow)) == [])
    }

    @Test(arguments: [
        (nil as SponsorStatus?, ["payer_nip:unknown_sponsor"]),
        (.inactive, ["payer_nip:inactive_sponsor"]),
        (.active, []),
    ])
    func payerRoster(payer: SponsorStatus?, expected: [String]) {
        #expect(errors(decide(payment(), payer: payer)) == expected)
    }

    @Test func pppkPayerFollowsAllowPPPK() {
        let body = payment([("payer_nip", "198503152024241001")])
        #expect(errors(decide(body)) == [])
        var c = config
        c.allowPPPK = false
        #expect(errors(decide(body, config: c)) == ["payer_nip:invalid_nip"])
    }

    @Test func registrationNotAccepted() {
        #expect(
            errors(decide(payment(), registration: registrationState(status: .rejected))) == [
                "registration_id:registration_not_accepted"
            ])
    }

    @Test func unknownRegistration() {
        if case .unknownRegistration = decide(payment(), registration: nil) {} else { Issue.record("expected a retry") }
        #expect(
            errors(decide(payment(), registration: nil, finalAttempt: true)) == ["registration_id:unknown_registration"]
        )
        // Already invalid for other reasons: rejected at once, listing the unknown registration too.
        #expect(
            errors(decide(payment([("channel", "cash")]), registration: nil)) == [
                "channel:invalid_value", "registration_id:unknown_registration",
            ])
        // An invalid registration_id is never looked up.
        #expect(
            errors(decide(payment([("registration_id", "x")]), registration: nil)) == ["registration_id:invalid_format"]
        )
    }

    /// Paid through August: a payment in November covers September onward; from 1 December ended.
    @Test(arguments: [
        ("2026-11-30T23:59:59+07:00", [String]()),
        ("2026-11-30T16:59:59Z", []),
        ("2026-11-30T17:00:00Z", ["registration_id:membership_ended"]),
        ("2026-12-01T00:00:00+07:00", ["registration_id:membership_ended"]),
    ])
    func graceAfterPaidThrough(paidAt: String, expected: [String]) {
        let reg = registrationState(
            paidThrough: "2026-08", submittedAt: "2026-01-10T10:00:00+07:00", acceptedAt: "2026-01-10T10:00:05+07:00")
        let d = decide(paymentBody(months: 3, paidAt: paidAt), registration: reg)
        #expect(errors(d) == expected)
        if expected.isEmpty {
            #expect(confirmed(d)?.coveredFrom == ym("2026-09"))
            #expect(confirmed(d)?.coveredThrough == ym("2026-11"))
        }
    }

    /// Never paid, accepted 20 November: open on 19 February, ended from 20 February.
    @Test(arguments: [
        ("2027-02-19T23:59:59+07:00", [String]()), ("2027-02-20T00:00:00+07:00", ["registration_id:membership_ended"]),
    ])
    func graceNeverPaid(paidAt: String, expected: [String]) {
        let d = decide(paymentBody(months: 1, paidAt: paidAt))
        #expect(errors(d) == expected)
        if expected.isEmpty { #expect(confirmed(d)?.coveredFrom == ym("2027-02")) }
    }

    @Test func latePaymentReopensUnlessRegisteredAgain() {
        let body = paymentBody(months: 1, paidAt: "2026-11-30T20:00:00+07:00")
        let ended = registrationState(paidThrough: "2026-08", submittedAt: "2026-01-10T10:00:00+07:00", ended: true)
        // Processed on 2 December, after the scheduler ended the membership.
        let d = decide(body, registration: ended, now: instant("2026-12-02T08:00:00+07:00"))
        #expect(confirmed(d)?.reopensRegistration == true)
        #expect(confirmed(d)?.coveredFrom == ym("2026-09"))
        var again = ended
        again.nikRegisteredAgain = true
        #expect(
            errors(decide(body, registration: again, now: instant("2026-12-02T08:00:00+07:00"))) == [
                "registration_id:membership_ended"
            ])
    }

    /// Born 1961-05-20: the last coverable month is 2026-05.
    @Test(arguments: [
        ("2025-11", 6 as Int64, nil as Int?),  // Dec–May: fine
        ("2025-12", 6, 5),  // Jan–Jun: 5 months left
        ("2025-12", 12, 5),
        ("2025-12", 3, nil),
        ("2026-04", 1, nil),  // May
        ("2026-05", 1, 0),  // June: nothing left
    ])
    func ageLimitOnCoverage(paidThrough: String, months: Int64, monthsLeft: Int?) {
        let reg = registrationState(
            paidThrough: paidThrough, birth: "1961-05-20", submittedAt: "2025-06-01T10:00:00+07:00",
            acceptedAt: "2025-06-01T10:00:00+07:00")
        let d = decide(paymentBody(months: months, paidAt: "2026-01-05T10:00:00+07:00"), registration: reg)
        if let monthsLeft {
            #expect(errors(d) == ["months:exceeds_age_limit"])
            if case .rejected(let e) = d {
                let expected = monthsLeft > 0 ? "hanya \(monthsLeft) bulan lagi" : "tidak ada bulan lagi"
                #expect(e[0].message.contains(expected))
            }
        } else {
            #expect(errors(d) == [])
        }
    }

    @Test func fiveErrorsAtOnce() {
        let body = payment([
            ("payment_id", "bad id"), ("payer_nip", "1"), ("months", 7), ("channel", "cash"),
            ("schema_version", 2),
        ])
        #expect(
            errors(decide(body)) == [
                "schema_version:unsupported_schema_version", "payment_id:invalid_format",
                "payer_nip:invalid_nip", "months:invalid_months", "channel:invalid_value",
            ])
    }

    @Test func lookupKeys() {
        let d = PaymentDraft.decode(payment(), config: config, now: paymentNow)
        #expect(d.lookupRegistrationID?.canonicalString == "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10")
        #expect(d.lookupPayerNIP == "198503152010011002")
    }

    @Test(arguments: [
        (2026, 123 as Int64, "PPR-2026-000123"), (2027, 1, "PPR-2027-000001"), (2026, 1_234_567, "PPR-2026-1234567"),
    ])
    func receiptNumbers(year: Int, sequence: Int64, expected: String) {
        #expect(ReceiptNumber.format(year: year, sequence: sequence) == expected)
    }
}
