import Foundation

extension UUID {
    /// Exactly 8-4-4-4-12 hexadecimal digits (any case). Checked here because Foundation's
    /// parser tolerates some variations (leading white space on Linux).
    public static func isCanonicalText(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) {
                return false
            }
        }
        return true
    }

    /// The lower-case canonical text form used in events and the database.
    public var canonicalString: String { uuidString.lowercased() }
}
