/// Hexadecimal digits: bytes to lower-case text and back (PostgreSQL bytea, the outbox's stored headers, JSON
/// `\u` escapes, URL percent-escapes).
public enum Hex {
    public static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)
    public static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// The value of one hexadecimal digit (either case), nil for anything else.
    @inlinable
    public static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x41...0x46: digit - 0x41 + 10
        case 0x61...0x66: digit - 0x61 + 10
        default: nil
        }
    }

    /// Appends the two digits of `byte`.
    @inlinable
    public static func append(_ byte: UInt8, to out: inout [UInt8], uppercase: Bool = false) {
        let digits = uppercase ? upperDigits : lowerDigits
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }

    /// Two lower-case digits per byte, after `prefix`.
    public static func encode(_ bytes: [UInt8], prefix: String = "") -> String {
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + bytes.count * 2)
        for byte in bytes { append(byte, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even number of digits (either case); nil for an odd count or a non-digit.
    public static func decode<Digits: Collection<UInt8>>(_ digits: Digits) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = digits.startIndex
        while index != digits.endIndex {
            let next = digits.index(after: index)
            guard let high = value(digits[index]), let low = value(digits[next]) else { return nil }
            out.append(high << 4 | low)
            index = digits.index(after: next)
        }
        return out
    }
}
