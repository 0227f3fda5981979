import Foundation
internal import PeduliBase

/// PostgreSQL's text formats, as pure functions (tested without a server).
///
/// Timestamps are computed with integer microseconds and proleptic Gregorian day arithmetic
/// rather than `DateFormatter`, which keeps only milliseconds and depends on locale settings.
public enum PostgresText {
    // MARK: timestamps

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, rounded to the microsecond (PostgreSQL's precision).
    public static func encodeTimestamp(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let days = floorDiv(micros, 86_400_000_000)
        let microOfDay = micros - days * 86_400_000_000
        let civil = civil(fromDays: Int(days))
        let seconds = Int(microOfDay / 1_000_000)
        let fraction = Int(microOfDay % 1_000_000)
        let bc = civil.year <= 0
        var text = pad(bc ? 1 - civil.year : civil.year, 4) + "-" + pad(civil.month, 2) + "-" + pad(civil.day, 2)
        text += " " + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
        if fraction != 0 { text += "." + pad(fraction, 6) }
        text += "+00"
        if bc { text += " BC" }
        return text
    }

    /// Parses PostgreSQL's ISO output of `timestamptz` (`2026-11-25 06:31:48.123456+07`,
    /// `+05:30`, `+00`, ` BC`) and of `timestamp` (no offset: read as UTC). A `T` separator and
    /// `Z` are accepted too. Nil for `infinity` and anything malformed.
    public static func decodeTimestamp(_ text: String) -> Date? {
        var rest = Substring(text)
        var bc = false
        if rest.hasSuffix(" BC") {
            bc = true
            rest = rest.dropLast(3)
        }
        guard let separator = rest.firstIndex(where: { $0 == " " || $0 == "T" }) else { return nil }
        guard let day = parseDay(rest[..<separator], bc: bc) else { return nil }
        var time = Substring(rest[rest.index(after: separator)...])

        // Offset: the last '+', '-' or 'Z' after the seconds.
        var offsetSeconds = 0
        if time.hasSuffix("Z") {
            time = time.dropLast()
        } else if let signIndex = time.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let sign = time[signIndex] == "-" ? -1 : 1
            let fields = time[time.index(after: signIndex)...].split(separator: ":", omittingEmptySubsequences: false)
            guard (1...3).contains(fields.count), fields.allSatisfy({ $0.count == 2 && isDigits($0) }) else {
                return nil
            }
            let values = fields.map { Int($0)! }
            guard values[0] <= 15, values.count < 2 || values[1] < 60, values.count < 3 || values[2] < 60 else {
                return nil
            }
            offsetSeconds =
                sign * (values[0] * 3600 + (values.count > 1 ? values[1] * 60 : 0) + (values.count > 2 ? values[2] : 0))
            time = time[..<signIndex]
        }

        var fractionMicros: Int64 = 0
        if let dot = time.firstIndex(of: ".") {
            let digits = time[time.index(after: dot)...]
            guard !digits.isEmpty, isDigits(digits) else { return nil }
            let six = String(digits.prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)
            fractionMicros = Int64(six)!
            time = time[..<dot]
        }
        let hms = time.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 && isDigits($0) }) else { return nil }
        let (h, m, s) = (Int(hms[0])!, Int(hms[1])!, Int(hms[2])!)
        guard h < 24 || (h == 24 && m == 0 && s == 0 && fractionMicros == 0), m < 60, s < 61 else { return nil }

        let wholeSeconds = Int64(day) * 86_400 + Int64(h * 3600 + m * 60 + s) - Int64(offsetSeconds)
        return Date(timeIntervalSince1970: Double(wholeSeconds) + Double(fractionMicros) / 1_000_000)
    }

    private static func parseDay(_ text: Substring, bc: Bool) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count >= 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ isDigits($0) }),
            var year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), year >= 1
        else { return nil }
        if bc { year = 1 - year }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let maxDay = month == 2 ? (leap ? 29 : 28) : ([4, 6, 9, 11].contains(month) ? 30 : 31)
        guard (1...maxDay).contains(day) else { return nil }
        return days(fromCivil: year, month, day)
    }

    // MARK: other scalars

    public static func decodeBool(_ text: String) -> Bool? {
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: return nil
        }
    }

    public static func encode(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return "\(value)"
    }

    public static func decodeDouble(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(text)
        }
    }

    /// bytea in hex format (`\x0a1b`), PostgreSQL's default output since 9.0.
    public static func encodeBytea(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes, prefix: "\\x")
    }

    public static func decodeBytea(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") else { return nil }
        return Hex.decode(utf8[2...])
    }

    /// `"name"` with embedded quotes doubled: for identifiers that cannot be parameters
    /// (LISTEN channels, schema names).
    public static func quoteIdentifier(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: calendar arithmetic (proleptic Gregorian, days since 1970-01-01)

    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        CivilDate.days(fromCivil: year, month, day)
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        CivilDate.civil(fromDays: days)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
