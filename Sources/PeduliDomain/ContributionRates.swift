import Foundation

/// One monthly contribution amount and the Jakarta date it takes effect.
public struct ContributionRate: Sendable, Hashable {
    public let effectiveFrom: JakartaDate
    /// Whole rupiah per month.
    public let monthlyAmount: Int64

    public init(effectiveFrom: JakartaDate, monthlyAmount: Int64) {
        self.effectiveFrom = effectiveFrom
        self.monthlyAmount = monthlyAmount
    }
}

public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code: `missing_file`, `bad_header`, `bad_row`, `duplicate_code`, `unknown_kecamatan`,
    /// `duplicate_rate_date`, `bad_rate`, `empty`.
    public let code: String
    public let file: String
    public let line: Int?
    public let detail: String

    public init(code: String, file: String, line: Int? = nil, detail: String) {
        self.code = code
        self.file = file
        self.line = line
        self.detail = detail
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(code): \(detail)"
    }
}

/// The dated table of monthly contributions, so a change of PP needs configuration, not code.
/// Default: Rp 16,800 (JKK 1 % of Rp 1,000,000 + JKM Rp 6,800) from 2019-12-02, the day
/// PP 82/2019 was promulgated. The amount in force on a date is the row with the latest
/// `effectiveFrom` not after it.
public struct ContributionRates: Sendable, Equatable {
    public let rates: [ContributionRate]

    public static let `default` = try! ContributionRates([
        ContributionRate(effectiveFrom: JakartaDate(year: 2019, month: 12, day: 2)!, monthlyAmount: 16_800),
    ])

    /// Rejects an empty table, a non-positive amount and two rows with the same date.
    public init(_ rates: [ContributionRate]) throws(ConfigurationError) {
        guard !rates.isEmpty else {
            throw ConfigurationError(code: "empty", file: "contribution_rates", detail: "no rate configured")
        }
        let sorted = rates.sorted { $0.effectiveFrom < $1.effectiveFrom }
        for (i, r) in sorted.enumerated() {
            // The cap keeps months × rate far from Int64 overflow.
            guard (1...1_000_000_000).contains(r.monthlyAmount) else {
                throw ConfigurationError(code: "bad_rate", file: "contribution_rates",
                                         detail: "rate from \(r.effectiveFrom) must be 1 to 1,000,000,000 rupiah")
            }
            if i > 0, sorted[i - 1].effectiveFrom == r.effectiveFrom {
                throw ConfigurationError(code: "duplicate_rate_date", file: "contribution_rates",
                                         detail: "two rates take effect on \(r.effectiveFrom)")
            }
        }
        self.rates = sorted
    }

    /// The monthly amount in force on a Jakarta date; nil before the first rate.
    public func monthlyAmount(on date: JakartaDate) -> Int64? {
        rates.last { $0.effectiveFrom <= date }?.monthlyAmount
    }

    public func monthlyAmount(at instant: Date) -> Int64? { monthlyAmount(on: JakartaDate(instant)) }
}
