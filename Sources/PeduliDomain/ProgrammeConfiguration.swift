import Foundation

/// What to do when the NIK's embedded birth date or sex disagrees with the form.
public enum NIKConsistencyPolicy: String, Sendable, Hashable {
    /// Reject with `nik_birth_date_mismatch` / `nik_gender_mismatch`.
    case reject
    /// Accept, and list the same codes under `warnings`.
    case warn
}

/// Every number of docs/rules.md. The pipeline builds one from its configuration file; the
/// domain never reads the environment. (`max_message_bytes` is the pipeline's.)
///
/// Each default is the configuration table's (`ConfigurationKeys`, key named on the property),
/// parsed as the reader parses it, so that code which never sets a value behaves like an empty
/// configuration file; `validate` applies the same key's checks and throws the same error.
public struct ProgrammeConfiguration: Sendable {
    /// `rules.rates`: the dated monthly contribution table.
    public var contributionRates: ContributionRates = .default
    /// `rules.payment_months`: allowed values of a payment's `months`.
    public var allowedPaymentMonths: Set<Int> = Set(ConfigurationDefaults.integers("rules.payment_months"))
    /// `rules.age_min_years`: minimum age at submission, in completed years.
    public var minimumAgeYears: Int = ConfigurationDefaults.integer("rules.age_min_years")
    /// `rules.age_max_months`: maximum age in completed months, at submission and on the first
    /// day of a covered month.
    public var maximumAgeMonths: Int = ConfigurationDefaults.integer("rules.age_max_months")
    /// `rules.grace_months`: months after `paid_through` in which arrears may still be paid.
    public var graceMonths: Int = ConfigurationDefaults.integer("rules.grace_months")
    /// `rules.due_day_of_month`: day of month M on which the contribution for M is due.
    public var dueDayOfMonth: Int = ConfigurationDefaults.integer("rules.due_day_of_month")
    /// `rules.due_reminder_days`: days before a due date on which `reminder.payment_due` is sent.
    public var dueReminderDays: Int = ConfigurationDefaults.integer("rules.due_reminder_days")
    /// `rules.first_payment_days`: days after acceptance on which a never-paid registration's
    /// first payment is due.
    public var firstPaymentDays: Int = ConfigurationDefaults.integer("rules.first_payment_days")
    /// `rules.max_clock_skew_seconds`: how far ahead of the worker's clock `submitted_at` /
    /// `paid_at` may be.
    public var clockSkewSeconds = TimeInterval(ConfigurationDefaults.integer("rules.max_clock_skew_seconds"))
    /// `rules.nik_consistency`.
    public var nikConsistency = NIKConsistencyPolicy(rawValue: ConfigurationDefaults.string("rules.nik_consistency"))!
    /// `rules.allow_pppk`: whether PPPK NIPs (digits 13–14 from 13 to 99) are accepted.
    public var allowPPPK: Bool = ConfigurationDefaults.boolean("rules.allow_pppk")
    /// `roster.enforce`: whether sponsors and payers must be active on the roster.
    public var enforceSponsorRoster: Bool = ConfigurationDefaults.boolean("roster.enforce")
    public var catalogues: Catalogues = .builtIn
    /// `report.baseline_informal_workers`: informal workers in the city, for the coverage rate.
    public var baselineInformalWorkers: Int = ConfigurationDefaults.integer("report.baseline_informal_workers")
    /// `report.baseline_covered`: informal workers already covered at the baseline.
    public var baselineCoveredWorkers: Int = ConfigurationDefaults.integer("report.baseline_covered")

    public init() {}

    /// Checks the numbers a configuration file could get wrong, with the checks of their keys:
    /// a value the reader rejects is rejected here with the same error, and the daemon refuses
    /// to start with that error naming the key. (The contribution table was checked when built.)
    public func validate() throws(ConfigurationError) {
        func key(_ name: String) -> ConfigurationKey { ConfigurationKeys[name] }
        try key("rules.payment_months").check(allowedPaymentMonths.sorted())
        try key("rules.grace_months").check(graceMonths)
        try key("rules.due_day_of_month").check(dueDayOfMonth)
        try key("rules.due_reminder_days").check(dueReminderDays)
        try key("rules.first_payment_days").check(firstPaymentDays)
        try key("rules.age_max_months").check(maximumAgeMonths)
        try key("rules.age_min_years").check(minimumAgeYears)
        try ConfigurationRules.checkAges(minimumYears: minimumAgeYears, maximumMonths: maximumAgeMonths)
        try key("rules.max_clock_skew_seconds").check(clockSkewSeconds)
        try key("report.baseline_informal_workers").check(baselineInformalWorkers)
        try key("report.baseline_covered").check(baselineCoveredWorkers)
        try ConfigurationRules.checkBaseline(covered: baselineCoveredWorkers, informalWorkers: baselineInformalWorkers)
    }

    public static let `default` = ProgrammeConfiguration()

    /// Reads `kecamatan.csv`, `kelurahan.csv` and `occupations.csv` from a directory (the
    /// repository's config/). Errors name the file, the line and what is wrong.
    public static func loadCatalogues(directory: URL) throws(ConfigurationError) -> Catalogues {
        func read(_ name: String) throws(ConfigurationError) -> String {
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ConfigurationError(code: "missing_file", file: url.path, detail: "cannot read \(name)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(code: "bad_row", file: url.path, detail: "\(name) is not UTF-8")
            }
            return text
        }
        let names = Catalogues.fileNames
        return try Catalogues(
            kecamatanCSV: try read(names.kecamatan),
            kelurahanCSV: try read(names.kelurahan),
            occupationsCSV: try read(names.occupations))
    }
}
