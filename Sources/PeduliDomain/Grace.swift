import Foundation

/// Grace and end of membership (RULES.md "Grace and end of membership").
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
    public static func endDate(acceptedOn: JakartaDate, paidThrough: YearMonth?, config: ProgrammeConfiguration) -> JakartaDate {
        if let paidThrough { return paidEndDate(paidThrough: paidThrough, config: config) }
        return neverPaidEndDate(acceptedOn: acceptedOn, config: config)
    }

    /// Whether the membership is still open on a Jakarta date (payments: the date of `paid_at`).
    public static func isOpen(on date: JakartaDate, acceptedOn: JakartaDate, paidThrough: YearMonth?,
                              config: ProgrammeConfiguration) -> Bool {
        date < endDate(acceptedOn: acceptedOn, paidThrough: paidThrough, config: config)
    }
}
