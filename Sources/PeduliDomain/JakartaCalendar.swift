import Foundation
internal import PeduliBase

// The programme's calendar: Asia/Jakarta (WIB), a fixed UTC+7 with no daylight saving since
// 1964, so the arithmetic is explicit here instead of depending on the machine's time zone or
// tzdata. Dates are proleptic Gregorian.

/// A calendar date in Jakarta (no time). Always a real date.
public struct JakartaDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let utcOffsetSeconds: Int64 = 7 * 3600

    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil unless the three numbers form a real date (years 1–9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= JakartaDate.daysIn(year: year, month: month)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// A date whose day is clamped to the month's last day (30 Feb -> 28/29 Feb).
    public init(year: Int, month: Int, clampingDay day: Int) {
        self.year = year
        self.month = month
        self.day = min(max(day, 1), JakartaDate.daysIn(year: year, month: month))
    }

    /// The Jakarta calendar date of an instant.
    public init(_ instant: Date) {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down)) + JakartaDate.utcOffsetSeconds
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        self.init(daysSinceEpoch: days)
    }

    /// Days since 1970-01-01.
    public init(daysSinceEpoch: Int64) {
        let civil = CivilDate.civil(fromDays: Int(daysSinceEpoch))
        self.year = civil.year
        self.month = civil.month
        self.day = civil.day
    }

    public var daysSinceEpoch: Int64 {
        Int64(CivilDate.days(fromCivil: year, month, day))
    }

    public func adding(days: Int) -> JakartaDate {
        JakartaDate(daysSinceEpoch: daysSinceEpoch + Int64(days))
    }

    /// The same day `months` months later; a day the target month lacks becomes its last day.
    public func adding(months: Int) -> JakartaDate {
        let ym = yearMonth.adding(months: months)
        return JakartaDate(year: ym.year, month: ym.month, clampingDay: day)
    }

    public var yearMonth: YearMonth { YearMonth(unchecked: year, month) }

    /// Midnight at the start of this date in Jakarta.
    public var startInstant: Date {
        Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch * 86_400 - JakartaDate.utcOffsetSeconds))
    }

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses exactly `YYYY-MM-DD` and requires a real date.
    public static func parse(_ text: String) -> JakartaDate? {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2)
        else { return nil }
        return JakartaDate(year: y, month: m, day: d)
    }

    public var description: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    public static func < (a: JakartaDate, b: JakartaDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

func digits(_ b: [UInt8], _ start: Int, _ count: Int) -> Int? {
    guard start + count <= b.count else { return nil }
    var v = 0
    for i in start..<(start + count) {
        let c = b[i]
        guard c >= 0x30, c <= 0x39 else { return nil }
        v = v * 10 + Int(c - 0x30)
    }
    return v
}

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// RFC 3339 timestamps (`2026-11-20T09:15:00+07:00`, `…Z`, optional fraction). An offset is
/// required; `t`/`z` in lower case are accepted as RFC 3339 allows; leap second 60 is not.
public enum RFC3339 {
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let y = digits(b, 0, 4), let mo = digits(b, 5, 2), let d = digits(b, 8, 2),
            let h = digits(b, 11, 2), let mi = digits(b, 14, 2), let s = digits(b, 17, 2),
            let date = JakartaDate(year: y, month: mo, day: d), h < 24, mi < 60, s < 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return nil }
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                let oh = digits(b, i + 1, 2), let om = digits(b, i + 4, 2), oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let epoch = date.daysSinceEpoch * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offset)
        return Date(timeIntervalSince1970: TimeInterval(epoch) + fraction)
    }

    /// Formats in Jakarta time with a `+07:00` offset, to the second (the fraction is dropped),
    /// e.g. `2026-11-20T09:15:00+07:00`: every time the worker writes is in this form.
    public static func format(_ instant: Date) -> String {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down)) + JakartaDate.utcOffsetSeconds
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let secOfDay = Int(seconds - days * 86_400)
        let date = JakartaDate(daysSinceEpoch: days)
        return "\(date)T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):\(pad(secOfDay % 60, 2))+07:00"
    }
}
