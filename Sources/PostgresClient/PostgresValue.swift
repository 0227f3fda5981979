import Foundation

/// A Swift value that can be sent as a statement parameter (always in PostgreSQL's text format,
/// always apart from the SQL text, so no value can change what a statement does).
///
/// `nil` in a parameter array is SQL NULL. Conforming types: `String`, `Substring`, `Int`,
/// `Int64`, `Int32`, `Int16`, `Bool`, `Double`, `Date` (timestamptz), ``PostgresDate`` (date),
/// `UUID`, `[UInt8]` (bytea).
public protocol PostgresValue: Sendable {
    /// The value in PostgreSQL's text input syntax.
    var postgresText: String { get }
    /// The parameter's type OID, or 0 to let the server infer it from the statement. Numbers
    /// and strings are inferred (so `"2026-01-31"` fits a `date` column and `42` an `int4`
    /// one); types whose text could be mistaken for plain text declare themselves.
    var postgresTypeOID: UInt32 { get }
}

extension PostgresValue {
    public var postgresTypeOID: UInt32 { 0 }
}

/// Type OIDs from `pg_type` (stable across PostgreSQL versions).
enum PostgresTypeOID {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let date: UInt32 = 1082
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
    static let uuid: UInt32 = 2950
}

extension String: PostgresValue {
    public var postgresText: String { self }
}

extension Substring: PostgresValue {
    public var postgresText: String { String(self) }
}

extension Int: PostgresValue {
    public var postgresText: String { String(self) }
}

extension Int64: PostgresValue {
    public var postgresText: String { String(self) }
}

extension Int32: PostgresValue {
    public var postgresText: String { String(self) }
}

extension Int16: PostgresValue {
    public var postgresText: String { String(self) }
}

extension Bool: PostgresValue {
    public var postgresText: String { self ? "t" : "f" }
    public var postgresTypeOID: UInt32 { PostgresTypeOID.bool }
}

extension Double: PostgresValue {
    public var postgresText: String { PostgresText.encode(self) }
}

extension UUID: PostgresValue {
    public var postgresText: String { uuidString.lowercased() }
    public var postgresTypeOID: UInt32 { PostgresTypeOID.uuid }
}

extension Date: PostgresValue {
    public var postgresText: String { PostgresText.encodeTimestamp(self) }
    public var postgresTypeOID: UInt32 { PostgresTypeOID.timestamptz }
}

extension Array: PostgresValue where Element == UInt8 {
    public var postgresText: String { PostgresText.encodeBytea(self) }
    public var postgresTypeOID: UInt32 { PostgresTypeOID.bytea }
}

/// A calendar day without time or zone, for `date` columns (the programme's due dates and
/// "as of" days are Jakarta calendar days, not instants).
public struct PostgresDate: Sendable, Hashable, Comparable, CustomStringConvertible, PostgresValue {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Returns nil for a day that does not exist (month 13, 30 February, 29 February 2027, year 0).
    public init?(year: Int, month: Int, day: Int) {
        guard year >= 1, year <= 9999, (1...12).contains(month),
            (1...PostgresDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD` (PostgreSQL's ISO output); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// The calendar day of an instant in a time zone (e.g. `Asia/Jakarta`).
    public init(_ date: Date, in timeZone: TimeZone) {
        let seconds = Int64((date.timeIntervalSince1970).rounded(.down)) + Int64(timeZone.secondsFromGMT(for: date))
        let days = Int(PostgresText.floorDiv(seconds, 86_400))
        let civil = PostgresText.civil(fromDays: days)
        self.year = civil.year
        self.month = civil.month
        self.day = civil.day
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int { PostgresText.days(fromCivil: year, month, day) }

    /// The day `count` days later (earlier when negative). Nil only when leaving years 1...9999.
    public func adding(days count: Int) -> PostgresDate? {
        let civil = PostgresText.civil(fromDays: daysSinceEpoch + count)
        return PostgresDate(year: civil.year, month: civil.month, day: civil.day)
    }

    public var description: String {
        PostgresText.pad(year, 4) + "-" + PostgresText.pad(month, 2) + "-" + PostgresText.pad(day, 2)
    }

    public var postgresText: String { description }
    public var postgresTypeOID: UInt32 { PostgresTypeOID.date }

    public static func < (lhs: PostgresDate, rhs: PostgresDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
