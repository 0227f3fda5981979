/// A calendar month (`YYYY-MM` on the wire): the unit of coverage, dues and reminders.
public struct YearMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (1...9999).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    init(unchecked year: Int, _ month: Int) {
        self.year = year
        self.month = month
    }

    /// Months since year 0 month 1; differences of this are month counts.
    public var ordinal: Int { year * 12 + (month - 1) }

    public init(ordinal: Int) {
        self.year = ordinal / 12
        self.month = ordinal % 12 + 1
    }

    public func adding(months: Int) -> YearMonth { YearMonth(ordinal: ordinal + months) }

    /// Number of months from `other` to `self` (positive when `self` is later).
    public func months(since other: YearMonth) -> Int { ordinal - other.ordinal }

    public var firstDay: JakartaDate { JakartaDate(year: year, month: month, clampingDay: 1) }
    public var lastDay: JakartaDate { JakartaDate(year: year, month: month, clampingDay: 31) }
    public func day(_ d: Int) -> JakartaDate { JakartaDate(year: year, month: month, clampingDay: d) }

    /// Parses exactly `YYYY-MM`.
    public static func parse(_ text: String) -> YearMonth? {
        let b = Array(text.utf8)
        guard b.count == 7, b[4] == UInt8(ascii: "-"), let y = digits(b, 0, 4), let m = digits(b, 5, 2) else {
            return nil
        }
        return YearMonth(year: y, month: m)
    }

    public var description: String { "\(pad(year, 4))-\(pad(month, 2))" }

    public static func < (a: YearMonth, b: YearMonth) -> Bool { a.ordinal < b.ordinal }
}
