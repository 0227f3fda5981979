import Foundation

/// Grace and end of membership (docs/rules.md "Grace and end of membership").
public enum Grace {
    /// A never-paid registration's first due date: acceptance date + `first_payment_days`.
    public static func firstDueDate(acceptedOn: JakartaDate, config: ProgrammeConfiguration) -> JakartaDate {
        acceptedOn.adding(days: config.firstPaymentDays)
    }

    /// A never-paid registration ends on this date: acceptance date + `grace_months` months,
    /// a day the month lacks moving to its last day.
    public static func neverPaidEndDate(acceptedOn: JakartaDate, config: ProgrammeConfiguration) -> JakartaDate {
        acceptedOn.adding(months: config.graceMonths)
    }

    /// A paid registration ends on the 1st of month P + grace_months + 1.
    public static func paidEndDate(paidThrough: YearMonth, config: ProgrammeConfiguration) -> JakartaDate {
        paidThrough.adding(months: config.graceMonths + 1).firstDay
    }

    /// The date from which the membership has ended, paid or not.
    public static func endDate(
        acceptedOn: JakartaDate, paidThrough: YearMonth?, config: ProgrammeConfiguration
    ) -> JakartaDate {
        if let paidThrough { return paidEndDate(paidThrough: paidThrough, config: config) }
        return neverPaidEndDate(acceptedOn: acceptedOn, config: config)
    }

    /// Whether the membership is still open on a Jakarta date (payments: the date of `paid_at`).
    public static func isOpen(
        on date: JakartaDate, acceptedOn: JakartaDate, paidThrough: YearMonth?,
        config: ProgrammeConfiguration
    ) -> Bool {
        date < endDate(acceptedOn: acceptedOn, paidThrough: paidThrough, config: config)
    }
}

/// A registration of a NIK that nobody has marked ended yet, as the store holds it.
public struct OpenRegistration: Sendable, Hashable {
    public var id: UUID
    public var acceptedAt: Date
    public var paidThrough: YearMonth?

    public init(id: UUID, acceptedAt: Date, paidThrough: YearMonth?) {
        self.id = id
        self.acceptedAt = acceptedAt
        self.paidThrough = paidThrough
    }
}

extension Grace {
    /// A NIK's unended registrations on a date: whether one of them is still open (then a new registration of
    /// the NIK is `already_registered`), and which have lapsed, their grace over before the scheduler marked
    /// them ended. A new registration of the NIK ends the lapsed ones in the same transaction, so a NIK never
    /// has two unended registrations (docs/rules.md, "One active registration per NIK").
    public static func classify(
        _ open: [OpenRegistration], on date: JakartaDate, config: ProgrammeConfiguration
    )
        -> (hasOpen: Bool, lapsed: [UUID])
    {
        var hasOpen = false
        var lapsed: [UUID] = []
        for registration in open {
            if isOpen(
                on: date, acceptedOn: JakartaDate(registration.acceptedAt), paidThrough: registration.paidThrough,
                config: config)
            {
                hasOpen = true
            } else {
                lapsed.append(registration.id)
            }
        }
        return (hasOpen, lapsed)
    }
}
