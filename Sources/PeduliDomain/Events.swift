import Foundation

// Events as docs/contract.md defines them. Bodies are canonical JSON (sorted keys, no white space);
// times are written in Jakarta time with `+07:00` (RFC3339.format), months `YYYY-MM`, dates
// `YYYY-MM-DD`, money as integers. Optional values the contract lists are written as `null`,
// never omitted. The NIK appears only masked; phone, address and birth date never.

/// Common shape of every event the worker publishes.
public protocol PeduliEvent: Sendable {
    var eventType: String { get }
    var eventID: UUID { get }
    var occurredAt: Date { get }
    /// The fields beyond `event_id`, `event_type` and `occurred_at`.
    func bodyFields() -> JSONObject
}

extension PeduliEvent {
    public func jsonValue() -> JSONValue {
        var o = bodyFields()
        o["event_id"] = .string(eventID.canonicalString)
        o["event_type"] = .string(eventType)
        o["occurred_at"] = .string(RFC3339.format(occurredAt))
        return .object(o)
    }

    /// The event body as canonical JSON bytes.
    public func json() -> [UInt8] { jsonValue().canonicalJSON() }
}

private func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

/// `worker` object of reminder events: name and masked NIK only.
public struct EventWorker: Sendable, Hashable {
    public let name: String
    public let nikMasked: String
    public init(name: String, nikMasked: String) {
        self.name = name
        self.nikMasked = nikMasked
    }
    var json: JSONValue { ["name": .string(name), "nik_masked": .string(nikMasked)] }
}

public struct RegistrationAcceptedEvent: PeduliEvent {
    public let eventType = "registration.accepted"
    public let eventID: UUID
    public let occurredAt: Date
    public let registrationID: UUID
    public let sponsorNIP: String
    public let workerName: String
    public let nikMasked: String
    public let occupationCode: String
    public let occupationName: String
    public let kecamatanCode: String
    public let kecamatanName: String
    public let monthlyContribution: Int64
    public let firstDueDate: JakartaDate
    public let warnings: [RuleCode]
    public let replayed: Bool

    public init(_ r: AcceptedRegistration, eventID: UUID, occurredAt: Date, replayed: Bool = false) {
        self.eventID = eventID
        self.occurredAt = occurredAt
        registrationID = r.registrationID
        sponsorNIP = r.sponsorNIP.value
        workerName = r.workerName
        nikMasked = r.nik.masked
        occupationCode = r.occupation.code
        occupationName = r.occupation.name
        kecamatanCode = r.kecamatan.code
        kecamatanName = r.kecamatan.name
        monthlyContribution = r.monthlyContribution
        firstDueDate = r.firstDueDate
        warnings = r.warnings.map(\.code)
        self.replayed = replayed
    }

    public func bodyFields() -> JSONObject {
        JSONObject([
            ("registration_id", .string(registrationID.canonicalString)),
            ("sponsor_nip", .string(sponsorNIP)),
            (
                "worker",
                [
                    "name": .string(workerName), "nik_masked": .string(nikMasked),
                    "occupation": .string(occupationCode), "occupation_name": .string(occupationName),
                    "kecamatan": .string(kecamatanCode), "kecamatan_name": .string(kecamatanName),
                ]
            ),
            ("monthly_contribution", .int(monthlyContribution)),
            ("first_due_date", .string(firstDueDate.description)),
            ("warnings", .array(warnings.map { .string($0.rawValue) })),
            ("replayed", .bool(replayed)),
        ])
    }
}

public struct RegistrationRejectedEvent: PeduliEvent {
    public let eventType = "registration.rejected"
    public let eventID: UUID
    public let occurredAt: Date
    /// Null only if absent or not a UUID.
    public let registrationID: UUID?
    /// Null only if absent or not a well-formed NIP (an unknown one is given).
    public let sponsorNIP: String?
    public let errors: [RuleViolation]
    public let replayed: Bool

    public init(
        draft: RegistrationDraft, errors: [RuleViolation], eventID: UUID, occurredAt: Date, replayed: Bool = false
    ) {
        self.registrationID = draft.registrationID
        self.sponsorNIP = draft.sponsorNIP?.value
        self.errors = errors
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.replayed = replayed
    }

    public func bodyFields() -> JSONObject {
        JSONObject([
            ("registration_id", str(registrationID?.canonicalString)),
            ("sponsor_nip", str(sponsorNIP)),
            ("errors", .array(errors.map(\.json))),
            ("replayed", .bool(replayed)),
        ])
    }
}

public struct PaymentConfirmedEvent: PeduliEvent {
    public let eventType = "payment.confirmed"
    public let eventID: UUID
    public let occurredAt: Date
    public let payment: ConfirmedPayment
    public let receiptNumber: String
    public let replayed: Bool

    public init(
        _ payment: ConfirmedPayment, receiptNumber: String, eventID: UUID, occurredAt: Date, replayed: Bool = false
    ) {
        self.payment = payment
        self.receiptNumber = receiptNumber
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.replayed = replayed
    }

    public func bodyFields() -> JSONObject {
        JSONObject([
            ("payment_id", .string(payment.paymentID)),
            ("registration_id", .string(payment.registrationID.canonicalString)),
            ("payer_nip", .string(payment.payerNIP.value)),
            ("months", .int(Int64(payment.months))),
            ("amount", .int(payment.amount)),
            ("covered_from", .string(payment.coveredFrom.description)),
            ("covered_through", .string(payment.coveredThrough.description)),
            ("receipt_number", .string(receiptNumber)),
            ("replayed", .bool(replayed)),
        ])
    }
}

public struct PaymentRejectedEvent: PeduliEvent {
    public let eventType = "payment.rejected"
    public let eventID: UUID
    public let occurredAt: Date
    /// Null only if absent or malformed.
    public let paymentID: String?
    /// Null only if absent or not a UUID.
    public let registrationID: UUID?
    public let errors: [RuleViolation]
    public let replayed: Bool

    public init(draft: PaymentDraft, errors: [RuleViolation], eventID: UUID, occurredAt: Date, replayed: Bool = false) {
        self.paymentID = draft.paymentID
        self.registrationID = draft.registrationID
        self.errors = errors
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.replayed = replayed
    }

    public func bodyFields() -> JSONObject {
        JSONObject([
            ("payment_id", str(paymentID)),
            ("registration_id", str(registrationID?.canonicalString)),
            ("errors", .array(errors.map(\.json))),
            ("replayed", .bool(replayed)),
        ])
    }
}

/// `reminder.payment_due`, `reminder.payment_overdue`, `membership.ended` and
/// `reminder.age_limit`, built from a `Reminder` and the registration's public details.
public struct ReminderEvent: PeduliEvent {
    public var eventType: String { reminder.kind.rawValue }
    public let eventID: UUID
    public let occurredAt: Date
    public let reminder: Reminder
    public let registrationID: UUID
    public let sponsorNIP: String
    public let worker: EventWorker

    public init(
        _ reminder: Reminder, registrationID: UUID, sponsorNIP: String, worker: EventWorker,
        eventID: UUID, occurredAt: Date
    ) {
        self.reminder = reminder
        self.registrationID = registrationID
        self.sponsorNIP = sponsorNIP
        self.worker = worker
        self.eventID = eventID
        self.occurredAt = occurredAt
    }

    public func bodyFields() -> JSONObject {
        var o = JSONObject([
            ("registration_id", .string(registrationID.canonicalString)),
            ("sponsor_nip", .string(sponsorNIP)),
            ("worker", worker.json),
        ])
        let r = reminder
        switch r.kind {
        case .paymentDue, .paymentOverdue:
            o["paid_through"] = str(r.paidThrough?.description)
            o["due_month"] = str(r.dueMonth?.description)
            o["due_date"] = str(r.dueDate?.description)
            o["amount_due"] = r.amountDue.map { .int($0) } ?? .null
            if r.kind == .paymentOverdue {
                o["arrears_months"] = r.arrearsMonths.map { .int(Int64($0)) } ?? .null
                o["membership_ends_after"] = str(r.membershipEndsAfter?.description)
            }
        case .membershipEnded:
            o["paid_through"] = str(r.paidThrough?.description)
        case .ageLimit:
            o["last_coverable_month"] = str(r.lastCoverableMonth?.description)
        }
        return o
    }
}
