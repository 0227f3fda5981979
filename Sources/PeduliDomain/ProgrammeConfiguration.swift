import Foundation

/// What to do when the NIK's embedded birth date or sex disagrees with the form.
public enum NIKConsistencyPolicy: String, Sendable, Hashable {
    /// Reject with `nik_birth_date_mismatch` / `nik_gender_mismatch` (default).
    case reject
    /// Accept, and list the same codes under `warnings`.
    case warn
}

/// Every number of RULES.md, with its default. The pipeline builds one from its configuration
/// file; the domain never reads the environment. (`max_message_bytes` is the pipeline's.)
public struct ProgrammeConfiguration: Sendable {
    /// Dated monthly contribution table (default Rp 16,800 from 2019-12-02).
    public var contributionRates: ContributionRates = .default
    /// Allowed values of a payment's `months`.
    public var allowedPaymentMonths: Set<Int> = [1, 2, 3, 6, 12]
    /// Minimum age at submission, in completed years.
    public var minimumAgeYears: Int = 18
    /// Maximum age in completed months, at submission and on the first day of a covered month
    /// (779 = 64 years 11 months).
    public var maximumAgeMonths: Int = 779
    /// Months after `paid_through` in which arrears may still be paid.
    public var graceMonths: Int = 3
    /// Day of month M on which the contribution for M is due.
    public var dueDayOfMonth: Int = 15
    /// Days before a due date on which `reminder.payment_due` is sent.
    public var dueReminderDays: Int = 7
    /// Days after acceptance on which a never-paid registration's first payment is due.
    public var firstPaymentDays: Int = 14
    /// How far ahead of the worker's clock `submitted_at` / `paid_at` may be, in seconds.
    public var clockSkewSeconds: TimeInterval = 300
    public var nikConsistency: NIKConsistencyPolicy = .reject
    /// Whether PPPK NIPs (digits 13–14 from 13 to 99) are accepted (default on: the programme
    /// asks every ASN).
    public var allowPPPK: Bool = true
    /// Whether sponsors and payers must be active on the roster.
    public var enforceSponsorRoster: Bool = true
    public var catalogues: Catalogues = .builtIn
    /// Reports: informal workers in the city (BPJS TK Cabang Semarang Pemuda, 31 Dec 2024).
    public var baselineInformalWorkers: Int = 215_243
    /// Reports: informal workers already covered at the baseline.
    public var baselineCoveredWorkers: Int = 40_196

    public init() {}

    /// Checks the numbers a configuration file could get wrong; the daemon refuses to start
    /// with an error naming the setting.
    public func validate() throws(ConfigurationError) {
        func bad(_ name: String, _ detail: String) -> ConfigurationError {
            ConfigurationError(code: "bad_setting", file: "programme", detail: "\(name): \(detail)")
        }
        if allowedPaymentMonths.isEmpty || allowedPaymentMonths.contains(where: { !(1...120).contains($0) }) {
            throw bad("allowed_payment_months", "each must be 1–120")
        }
        if !(0...120).contains(minimumAgeYears) { throw bad("minimum_age_years", "must be 0–120") }
        if !(0...1_440).contains(maximumAgeMonths) { throw bad("maximum_age_months", "must be 0–1440") }
        if !(0...24).contains(graceMonths) { throw bad("grace_months", "must be 0–24") }
        if !(1...28).contains(dueDayOfMonth) { throw bad("due_day_of_month", "must be 1–28") }
        if !(0...60).contains(dueReminderDays) { throw bad("due_reminder_days", "must be 0–60") }
        if !(0...365).contains(firstPaymentDays) { throw bad("first_payment_days", "must be 0–365") }
        if !(0...86_400).contains(clockSkewSeconds) { throw bad("clock_skew_seconds", "must be 0–86400") }
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
        return try Catalogues(kecamatanCSV: try read(names.kecamatan),
                              kelurahanCSV: try read(names.kelurahan),
                              occupationsCSV: try read(names.occupations))
    }
}
