/// Ages in completed months on the Jakarta calendar (docs/rules.md "Age").
public enum Age {
    /// Completed months from `birth` to `date`. A month completes on the birth day, or on the
    /// month's last day when the month lacks that day (31st, 29 February).
    public static func completedMonths(birth: JakartaDate, on date: JakartaDate) -> Int {
        var months = date.yearMonth.months(since: birth.yearMonth)
        let anniversaryDay = min(birth.day, JakartaDate.daysIn(year: date.year, month: date.month))
        if date.day < anniversaryDay { months -= 1 }
        return months
    }

    /// A month is coverable when the age on its first day is at most `maximumMonths`.
    public static func isCoverable(_ month: YearMonth, birth: JakartaDate, maximumMonths: Int) -> Bool {
        completedMonths(birth: birth, on: month.firstDay) <= maximumMonths
    }

    /// The last coverable month: the age on the 1st of month B+k is k−1 completed months when
    /// the birth day is after the 1st, k when it is the 1st.
    public static func lastCoverableMonth(birth: JakartaDate, maximumMonths: Int) -> YearMonth {
        birth.yearMonth.adding(months: maximumMonths + (birth.day > 1 ? 1 : 0))
    }

    /// The registration age rule; returns the violations (empty when the age is acceptable).
    public static func registrationViolations(
        birth: JakartaDate, submittedOn: JakartaDate,
        config: ProgrammeConfiguration
    ) -> [RuleViolation] {
        let months = completedMonths(birth: birth, on: submittedOn)
        if months > config.maximumAgeMonths { return [.ageAboveLimit(maximumMonths: config.maximumAgeMonths)] }
        if months < config.minimumAgeYears * 12 { return [.ageBelowMinimum(minimumYears: config.minimumAgeYears)] }
        return []
    }
}
