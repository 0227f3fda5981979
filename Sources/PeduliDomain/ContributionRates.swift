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

    /// As the configuration writes it, for the key's checks. An amount beyond `Int` (never on
    /// 64-bit) is clamped, which the range check then rejects.
    var configured: ConfigurationRate {
        ConfigurationRate(effectiveFrom: effectiveFrom.description, monthlyAmount: Int(clamping: monthlyAmount))
    }
}

/// The dated table of monthly contributions, so a change of PP needs configuration, not code.
/// The default (`rules.rates`; docs/rules.md, Contribution) is JKK 1 % of Rp 1,000,000 plus JKM
/// Rp 6,800 from the day PP 82/2019 was promulgated. The amount in force on a date is the row with the latest
/// `effectiveFrom` not after it.
public struct ContributionRates: Sendable, Equatable {
    public let rates: [ContributionRate]

    /// The table of `rules.rates`' default, parsed as the reader parses it.
    public static let `default`: ContributionRates = {
        let rates = ConfigurationDefaults.rates("rules.rates").map { rate in
            ContributionRate(
                effectiveFrom: JakartaDate.parse(rate.effectiveFrom)!, monthlyAmount: Int64(rate.monthlyAmount))
        }
        return try! ContributionRates(rates)
    }()

    /// Rejects what the reader rejects in `rules.rates`, with the same error (`empty`,
    /// `bad_rate`, `duplicate_rate_date`): the check is the key's. Its amount range also keeps
    /// months × rate far from Int64 overflow.
    public init(_ rates: [ContributionRate]) throws(ConfigurationError) {
        try ConfigurationKeys["rules.rates"].check(rates.map(\.configured))
        self.rates = rates.sorted { $0.effectiveFrom < $1.effectiveFrom }
    }

    /// The monthly amount in force on a Jakarta date; nil before the first rate.
    public func monthlyAmount(on date: JakartaDate) -> Int64? {
        rates.last { $0.effectiveFrom <= date }?.monthlyAmount
    }

    public func monthlyAmount(at instant: Date) -> Int64? { monthlyAmount(on: JakartaDate(instant)) }
}
