/// A well-formed NIP (18 digits) of a PNS or a PPPK. NIPs are not personal data under the
/// contract (events carry `sponsor_nip`), so it prints in full.
public struct NIP: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case pns
        case pppk
    }

    public let value: String
    public let kind: Kind
    public let birthDate: JakartaDate

    public var description: String { value }

    /// `YYYYMMDD YYYYMM G NNN`: a real birth date; appointment year not before birth year + 15;
    /// digits 13–14 a month 01–12 (PNS) or a PPPK code 13–99 (only when `allowPPPK`), never 00;
    /// sex 1 or 2; serial 001–999.
    public static func parse(_ text: String, allowPPPK: Bool) -> NIP? {
        let b = Array(text.utf8)
        guard b.count == 18, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let by = digits(b, 0, 4), let bm = digits(b, 4, 2), let bd = digits(b, 6, 2),
            let birth = JakartaDate(year: by, month: bm, day: bd),
            let ay = digits(b, 8, 4), ay >= by + 15,
            let code = digits(b, 12, 2), let sex = digits(b, 14, 1), sex == 1 || sex == 2,
            let serial = digits(b, 15, 3), (1...999).contains(serial)
        else { return nil }
        let kind: Kind
        switch code {
        case 1...12: kind = .pns
        case 13...99 where allowPPPK: kind = .pppk
        default: return nil
        }
        return NIP(value: text, kind: kind, birthDate: birth)
    }
}
