import Foundation

/// The scheduler's events. Raw values are the `event_type`s.
public enum ReminderKind: String, Sendable, Hashable, CaseIterable {
    case paymentDue = "reminder.payment_due"
    case paymentOverdue = "reminder.payment_overdue"
    case membershipEnded = "membership.ended"
    case ageLimit = "reminder.age_limit"
}

/// The database keeps one row per (registration, kind, month): that is how each reminder is
/// sent once however many times (or instances) the scheduler runs.
public struct ReminderKey: Sendable, Hashable, CustomStringConvertible {
    public let kind: ReminderKind
    /// For a paid registration the month the reminder concerns (D, D+1, D+2; D for
    /// `membership.ended` and `reminder.age_limit`). For a never-paid registration the month of
    /// its acceptance, so its keys never collide with those after its first payment.
    public let month: YearMonth
    public var description: String { "\(kind.rawValue)/\(month)" }
}

/// A registration as the scheduler sees it.
public struct RegistrationReminderState: Sendable, Hashable {
    /// Jakarta date of `accepted_at`.
    public var acceptedOn: JakartaDate
    public var paidThrough: YearMonth?
    public var birthDate: JakartaDate
    /// `membership.ended` already recorded (and not reopened): nothing more to send.
    public var ended: Bool

    public init(acceptedOn: JakartaDate, paidThrough: YearMonth?, birthDate: JakartaDate, ended: Bool = false) {
        self.acceptedOn = acceptedOn
        self.paidThrough = paidThrough
        self.birthDate = birthDate
        self.ended = ended
    }

    public init(acceptedAt: Date, paidThrough: YearMonth?, birthDate: JakartaDate, ended: Bool = false) {
        self.init(acceptedOn: JakartaDate(acceptedAt), paidThrough: paidThrough, birthDate: birthDate, ended: ended)
    }
}

/// One reminder whose day has come, with the fields its event needs.
public struct Reminder: Sendable, Hashable {
    public let key: ReminderKey
    public var kind: ReminderKind { key.kind }
    public let paidThrough: YearMonth?
    /// Due and overdue reminders.
    public let dueMonth: YearMonth?
    public let dueDate: JakartaDate?
    /// Due: one month's contribution; overdue: what clears the arrears through `dueMonth`.
    public let amountDue: Int64?
    /// Overdue only.
    public let arrearsMonths: Int?
    public let membershipEndsAfter: JakartaDate?
    /// Age limit only.
    public let lastCoverableMonth: YearMonth?
}

/// The reminders whose day has come on `date` and that are still relevant. Idempotent: the
/// caller sends those whose key it has not stored yet. Catch-up after downtime follows from
/// this: a pass on day X returns what is due up to X, and only the current state of each
/// chain: an overdue reminder supersedes the due reminder once the due date passed, a later
/// month's overdue supersedes an earlier one (it carries all arrears), and `membership.ended`
/// supersedes both; superseded reminders are not sent late.
public func remindersDue(
    for state: RegistrationReminderState, on date: JakartaDate,
    config: ProgrammeConfiguration
) -> [Reminder] {
    guard !state.ended, date >= state.acceptedOn else { return [] }
    let rate = config.contributionRates.monthlyAmount(on: date) ?? config.contributionRates.rates[0].monthlyAmount
    let lastCoverable = Age.lastCoverableMonth(birth: state.birthDate, maximumMonths: config.maximumAgeMonths)

    func ageLimit(_ keyMonth: YearMonth) -> Reminder {
        Reminder(
            key: ReminderKey(kind: .ageLimit, month: keyMonth), paidThrough: state.paidThrough, dueMonth: nil,
            dueDate: nil, amountDue: nil, arrearsMonths: nil, membershipEndsAfter: nil,
            lastCoverableMonth: lastCoverable)
    }
    func ended(_ keyMonth: YearMonth) -> Reminder {
        Reminder(
            key: ReminderKey(kind: .membershipEnded, month: keyMonth), paidThrough: state.paidThrough,
            dueMonth: nil, dueDate: nil, amountDue: nil, arrearsMonths: nil, membershipEndsAfter: nil,
            lastCoverableMonth: nil)
    }

    guard let p = state.paidThrough else {
        // Never paid: one due, one overdue, then the end date.
        let keyMonth = state.acceptedOn.yearMonth
        let firstDue = Grace.firstDueDate(acceptedOn: state.acceptedOn, config: config)
        let end = Grace.neverPaidEndDate(acceptedOn: state.acceptedOn, config: config)
        let dueMonth = firstDue.yearMonth
        if date >= end { return [ended(keyMonth)] }
        if dueMonth > lastCoverable { return [ageLimit(keyMonth)] }
        if date > firstDue {
            return [
                Reminder(
                    key: ReminderKey(kind: .paymentOverdue, month: keyMonth), paidThrough: nil,
                    dueMonth: dueMonth, dueDate: firstDue, amountDue: rate, arrearsMonths: 1,
                    membershipEndsAfter: end.adding(days: -1), lastCoverableMonth: nil)
            ]
        }
        if date >= firstDue.adding(days: -config.dueReminderDays) {
            return [
                Reminder(
                    key: ReminderKey(kind: .paymentDue, month: keyMonth), paidThrough: nil,
                    dueMonth: dueMonth, dueDate: firstDue, amountDue: rate, arrearsMonths: nil,
                    membershipEndsAfter: nil, lastCoverableMonth: nil)
            ]
        }
        return []
    }

    let d = p.adding(months: 1)
    if date >= Grace.paidEndDate(paidThrough: p, config: config) { return [ended(d)] }
    if d > lastCoverable { return [ageLimit(d)] }
    let endsAfter = p.adding(months: config.graceMonths).lastDay
    // Overdue: the latest unpaid, coverable month among D … D+grace−1 whose due date has passed.
    var latest: YearMonth?
    for k in 0..<max(config.graceMonths, 0) {
        let m = d.adding(months: k)
        if m <= lastCoverable, m.day(config.dueDayOfMonth) < date { latest = m }
    }
    if let m = latest {
        let arrears = m.months(since: d) + 1
        return [
            Reminder(
                key: ReminderKey(kind: .paymentOverdue, month: m), paidThrough: p, dueMonth: m,
                dueDate: m.day(config.dueDayOfMonth), amountDue: rate * Int64(arrears),
                arrearsMonths: arrears, membershipEndsAfter: endsAfter, lastCoverableMonth: nil)
        ]
    }
    let dueDate = d.day(config.dueDayOfMonth)
    if date >= dueDate.adding(days: -config.dueReminderDays), date <= dueDate {
        return [
            Reminder(
                key: ReminderKey(kind: .paymentDue, month: d), paidThrough: p, dueMonth: d,
                dueDate: dueDate, amountDue: rate, arrearsMonths: nil, membershipEndsAfter: nil,
                lastCoverableMonth: nil)
        ]
    }
    return []
}

extension RegistrationReminderState {
    /// The scheduler's view of an accepted registration (nil for a rejected one).
    public init?(_ registration: RegistrationState) {
        guard registration.status == .accepted, let acceptedAt = registration.acceptedAt else { return nil }
        self.init(
            acceptedAt: acceptedAt, paidThrough: registration.paidThrough, birthDate: registration.birthDate,
            ended: registration.ended)
    }
}
