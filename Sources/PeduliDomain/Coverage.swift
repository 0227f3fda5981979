/// Which months a payment covers (docs/rules.md "Coverage months" and "Age limit on coverage").
public enum Coverage {
    /// The first payment covers `months` months from the Jakarta month of `paid_at`; a later
    /// one the `months` months right after `paid_through` (arrears first).
    public static func months(paidThrough: YearMonth?, paidAtMonth: YearMonth, months: Int) -> ClosedRange<YearMonth> {
        let from = paidThrough.map { $0.adding(months: 1) } ?? paidAtMonth
        return from...from.adding(months: months - 1)
    }

    /// How many months from `from` onward can still be covered under the age limit (0 when none).
    public static func monthsLeft(from: YearMonth, birth: JakartaDate, maximumMonths: Int) -> Int {
        let last = Age.lastCoverableMonth(birth: birth, maximumMonths: maximumMonths)
        return max(0, last.months(since: from) + 1)
    }
}
