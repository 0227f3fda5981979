/// Report figures (docs/rules.md "Reports"), pure so the pipeline only counts rows.
public enum Reports {
    /// Active = not ended and paid through at least the current Jakarta month.
    public static func isActive(paidThrough: YearMonth?, ended: Bool, on date: JakartaDate) -> Bool {
        guard !ended, let paidThrough else { return false }
        return paidThrough >= date.yearMonth
    }

    /// The city's coverage rate: (already covered + active) / informal workers, as a fraction.
    public static func coverageRate(active: Int, config: ProgrammeConfiguration) -> Double {
        guard config.baselineInformalWorkers > 0 else { return 0 }
        return Double(config.baselineCoveredWorkers + active) / Double(config.baselineInformalWorkers)
    }

    /// ASN participation of a unit: roster sponsors with at least one accepted registration /
    /// roster sponsors (0 for an empty unit).
    public static func participationRate(sponsorsWithRegistration: Int, sponsorsOnRoster: Int) -> Double {
        sponsorsOnRoster > 0 ? Double(sponsorsWithRegistration) / Double(sponsorsOnRoster) : 0
    }
}
