import Foundation

public enum PaymentChannel: String, Sendable, Hashable, CaseIterable {
    case autodebet
    case virtualAccount = "virtual_account"
    case qris
    case teller
}

/// Phase 1 of a payment: everything that can be checked without the database, including
/// `amount_mismatch` (months × the rate in force at `paid_at`).
public struct PaymentDraft: Sendable {
    public var paymentID: String?
    public var registrationID: UUID?
    public var payerNIP: NIP?
    public var months: Int?
    public var amount: Int64?
    /// Set only when well-formed and not in the future.
    public var paidAt: Date?
    public var channel: PaymentChannel?
    public var errors: [RuleViolation] = []

    /// Look-up keys for the database phase.
    public var lookupRegistrationID: UUID? { registrationID }
    public var lookupPayerNIP: String? { payerNIP?.value }

    public init() {}

    /// `payment_id`: 1–64 of `A–Z a–z 0–9 . _ : -`.
    public static func isValidPaymentID(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
                    || b == UInt8(ascii: "-")
            }
    }

    public static func decode(_ body: JSONValue, config: ProgrammeConfiguration, now: Date) -> PaymentDraft {
        var draft = PaymentDraft()
        var r = FieldReader()
        guard case .object(let root) = body else {
            draft.errors = [.invalidType("", expected: "objek JSON")]
            return draft
        }
        r.schemaVersion(root)
        if let id = r.string(root, "payment_id") {
            if isValidPaymentID(id) {
                draft.paymentID = id
            } else {
                r.fail(
                    "payment_id", .invalidFormat,
                    "payment_id harus 1–64 karakter A–Z, a–z, 0–9, titik, garis bawah, titik dua atau tanda hubung")
            }
        }
        draft.registrationID = r.uuid(root, "registration_id")
        if let nip = r.string(root, "payer_nip") {
            draft.payerNIP = NIP.parse(nip, allowPPPK: config.allowPPPK)
            if draft.payerNIP == nil { r.fail("payer_nip", .invalidNIP) }
        }
        if let m = r.int(root, "months") {
            if config.allowedPaymentMonths.contains(Int(clamping: m)) {
                draft.months = Int(m)
            } else {
                let allowed = config.allowedPaymentMonths.sorted().map(String.init).joined(separator: ", ")
                r.fail("months", .invalidMonths, "Jumlah bulan harus salah satu dari \(allowed)")
            }
        }
        draft.amount = r.int(root, "amount")
        if let (t, valid) = r.timestamp(root, "paid_at", now: now, skew: config.clockSkewSeconds), valid {
            draft.paidAt = t
        }
        if let c = r.string(root, "channel") {
            draft.channel = PaymentChannel(rawValue: c)
            if draft.channel == nil {
                r.fail("channel", .invalidValue, "Saluran bayar harus autodebet, virtual_account, qris atau teller")
            }
        }
        if let months = draft.months, let amount = draft.amount, let paidAt = draft.paidAt {
            if let rate = config.contributionRates.monthlyAmount(at: paidAt) {
                let expected = rate * Int64(months)
                if amount != expected { r.errors.append(.amountMismatch(expected: expected, months: months)) }
            } else {
                r.fail("amount", .amountMismatch, "Tidak ada tarif iuran yang berlaku pada tanggal bayar")
            }
        }
        draft.errors = r.errors
        return draft
    }
}

/// What the database knows about a registration, as a payment needs it.
public struct RegistrationState: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case accepted
        case rejected
    }
    public var status: Status
    public var submittedAt: Date
    /// Nil for a rejected registration.
    public var acceptedAt: Date?
    public var birthDate: JakartaDate
    public var paidThrough: YearMonth?
    /// The scheduler has already recorded `membership.ended`.
    public var ended: Bool
    /// Another registration of the same NIK was accepted after this one ended.
    public var nikRegisteredAgain: Bool

    public init(
        status: Status, submittedAt: Date, acceptedAt: Date?, birthDate: JakartaDate,
        paidThrough: YearMonth?, ended: Bool = false, nikRegisteredAgain: Bool = false
    ) {
        self.status = status
        self.submittedAt = submittedAt
        self.acceptedAt = acceptedAt
        self.birthDate = birthDate
        self.paidThrough = paidThrough
        self.ended = ended
        self.nikRegisteredAgain = nikRegisteredAgain
    }
}

public struct PaymentFacts: Sendable, Hashable {
    /// The payer's roster status; nil = not on the roster.
    public var payer: SponsorStatus?
    /// Nil = the registration is not known (yet).
    public var registration: RegistrationState?

    public init(payer: SponsorStatus?, registration: RegistrationState?) {
        self.payer = payer
        self.registration = registration
    }
}

/// A payment that passed every rule: what to store and what `payment.confirmed` says.
public struct ConfirmedPayment: Sendable, Hashable {
    public let paymentID: String
    public let registrationID: UUID
    public let payerNIP: NIP
    public let months: Int
    public let amount: Int64
    public let paidAt: Date
    public let channel: PaymentChannel
    public let coveredFrom: YearMonth
    public let coveredThrough: YearMonth
    /// The registration's new `paid_through` (= `coveredThrough`).
    public var newPaidThrough: YearMonth { coveredThrough }
    /// The scheduler had ended the membership but the payment was inside the grace: the
    /// pipeline must clear the registration's ended mark.
    public let reopensRegistration: Bool
}

public enum PaymentDecision: Sendable {
    case confirmed(ConfirmedPayment)
    case rejected([RuleViolation])
    /// The registration is not known yet and nothing else is wrong: retry later. After the last
    /// retry call `decidePayment(..., finalAttempt: true)`.
    case unknownRegistration
}

/// Phase 2 of a payment. An unknown registration gives `.unknownRegistration` when the payment
/// is otherwise valid (so the pipeline retries), and a rejection with `unknown_registration`
/// when it has other errors anyway (no point in waiting) or on the final attempt.
public func decidePayment(
    _ draft: PaymentDraft, facts: PaymentFacts, config: ProgrammeConfiguration,
    finalAttempt: Bool = false
) -> PaymentDecision {
    var errors = draft.errors
    if draft.payerNIP != nil, config.enforceSponsorRoster {
        errors += Roster.violations(facts.payer, field: "payer_nip")
    }
    var coverage: ClosedRange<YearMonth>?
    var reopens = false
    if draft.registrationID != nil {
        if let reg = facts.registration {
            let judged = judgeRegistration(reg, draft: draft, config: config)
            errors += judged.errors
            coverage = judged.coverage
            reopens = judged.reopens
        } else {
            if errors.isEmpty && !finalAttempt { return .unknownRegistration }
            errors.append(.unknownRegistration())
        }
    }
    guard errors.isEmpty else { return .rejected(errors) }
    guard let id = draft.paymentID, let regID = draft.registrationID, let nip = draft.payerNIP,
        let months = draft.months, let amount = draft.amount, let paidAt = draft.paidAt,
        let channel = draft.channel, let coverage
    else {
        return .rejected([RuleViolation(field: "", code: .missingField)])
    }
    return .confirmed(
        ConfirmedPayment(
            paymentID: id, registrationID: regID, payerNIP: nip, months: months, amount: amount, paidAt: paidAt,
            channel: channel, coveredFrom: coverage.lowerBound, coveredThrough: coverage.upperBound,
            reopensRegistration: reopens))
}

/// The registration-dependent payment rules, each skipped when a field it reads is invalid.
func judgeRegistration(
    _ reg: RegistrationState, draft: PaymentDraft, config: ProgrammeConfiguration
)
    -> (errors: [RuleViolation], coverage: ClosedRange<YearMonth>?, reopens: Bool)
{
    guard reg.status == .accepted, let acceptedAt = reg.acceptedAt else {
        return ([RuleViolation(field: "registration_id", code: .registrationNotAccepted)], nil, false)
    }
    guard let paidAt = draft.paidAt else {
        // Without a valid paid_at neither the grace nor the coverage can be judged.
        return ([], nil, false)
    }
    var errors: [RuleViolation] = []
    if paidAt < reg.submittedAt {
        errors.append(RuleViolation(field: "paid_at", code: .paidBeforeRegistration))
    }
    let paidOn = JakartaDate(paidAt)
    let open = Grace.isOpen(
        on: paidOn, acceptedOn: JakartaDate(acceptedAt), paidThrough: reg.paidThrough, config: config)
    if !open || (reg.ended && reg.nikRegisteredAgain) {
        errors.append(RuleViolation(field: "registration_id", code: .membershipEnded))
        return (errors, nil, false)
    }
    guard let months = draft.months else { return (errors, nil, false) }
    let range = Coverage.months(paidThrough: reg.paidThrough, paidAtMonth: paidOn.yearMonth, months: months)
    if !Age.isCoverable(range.upperBound, birth: reg.birthDate, maximumMonths: config.maximumAgeMonths) {
        let left = Coverage.monthsLeft(
            from: range.lowerBound, birth: reg.birthDate, maximumMonths: config.maximumAgeMonths)
        errors.append(.exceedsAgeLimit(monthsLeft: left, maximumMonths: config.maximumAgeMonths))
    }
    return (errors, range, reg.ended)
}

/// Receipt numbers: the database assigns the sequence; the domain owns the format.
public enum ReceiptNumber {
    /// `PPR-2026-000123` (at least six digits).
    public static func format(year: Int, sequence: Int64) -> String {
        "PPR-\(pad(year, 4))-\(pad(Int(sequence), 6))"
    }
}
