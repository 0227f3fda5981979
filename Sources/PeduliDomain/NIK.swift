/// A structurally valid NIK (`PPKKCC DDMMYY SSSS`). Its `description` is the mask, so string
/// interpolation into a log line can never leak the full number; use `digits` only to store it.
public struct NIK: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Province codes of docs/rules.md.
    public static let provinceCodes: Set<Int> = Set(
        Array(11...19) + [21] + Array(31...36) + Array(51...53) + Array(61...65) + Array(71...76)
            + [81, 82] + Array(91...97))

    /// The full 16 digits. Personal data: store it, never print it.
    public let digits: String
    /// Birth date encoded in the NIK, with the century resolved at parse time.
    public let birthDate: JakartaDate
    public let isFemale: Bool

    public var gender: Gender { isFemale ? .female : .male }
    public var provinceCode: String { String(digits.prefix(2)) }
    public var serial: Int { Int(digits.suffix(4))! }

    /// `3374********0001`: the only form allowed in events and logs.
    public var masked: String { String(digits.prefix(4)) + "********" + String(digits.suffix(4)) }
    public var description: String { masked }
    public var debugDescription: String { "NIK(\(masked))" }

    /// Parses a NIK. The two-digit year takes the century of `birthDate` when the form's birth
    /// date is valid, otherwise the century that makes the person 0–99 years old on `reference`.
    /// `DDMMYY` must then be a real date.
    public static func parse(_ text: String, birthDate formDate: JakartaDate?, reference: JakartaDate) -> NIK? {
        let b = Array(text.utf8)
        guard b.count == 16, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let province = PeduliDomain.digits(b, 0, 2), provinceCodes.contains(province),
            var day = PeduliDomain.digits(b, 6, 2), let month = PeduliDomain.digits(b, 8, 2),
            let yy = PeduliDomain.digits(b, 10, 2), let serial = PeduliDomain.digits(b, 12, 4),
            (1...9999).contains(serial)
        else { return nil }
        var female = false
        if (41...71).contains(day) {
            female = true
            day -= 40
        } else if !(1...31).contains(day) {
            return nil
        }
        let year: Int
        if let formDate {
            year = formDate.year / 100 * 100 + yy
        } else {
            let candidate = reference.year / 100 * 100 + yy
            year = candidate > reference.year ? candidate - 100 : candidate
        }
        guard let date = JakartaDate(year: year, month: month, day: day) else { return nil }
        return NIK(digits: text, birthDate: date, isFemale: female)
    }

    /// Builds a NIK from its parts (tests, fixtures). `region` is the 4-digit `KKCC`.
    public static func build(province: Int, region: Int, birthDate: JakartaDate, female: Bool, serial: Int) -> String {
        pad(province, 2) + pad(region, 4) + pad(birthDate.day + (female ? 40 : 0), 2) + pad(birthDate.month, 2)
            + pad(birthDate.year % 100, 2) + pad(serial, 4)
    }
}

public enum Gender: String, Sendable, Hashable {
    /// Laki-laki.
    case male = "L"
    /// Perempuan.
    case female = "P"
}

/// What the NIK's embedded data says against the form (docs/rules.md "NIK consistency").
public enum NIKConsistency {
    /// The codes of the disagreements; the caller files them as errors or warnings per policy.
    public static func mismatches(nik: NIK, birthDate: JakartaDate?, gender: Gender?) -> [RuleCode] {
        var codes: [RuleCode] = []
        if let birthDate, birthDate != nik.birthDate { codes.append(.nikBirthDateMismatch) }
        if let gender, gender != nik.gender { codes.append(.nikGenderMismatch) }
        return codes
    }
}
