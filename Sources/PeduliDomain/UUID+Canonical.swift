import Foundation
internal import PeduliBase

extension UUID {
    /// Exactly 8-4-4-4-12 hexadecimal digits (any case). Checked here because Foundation's
    /// parser tolerates some variations (leading white space on Linux).
    public static func isCanonicalText(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if Hex.value(c) == nil {
                return false
            }
        }
        return true
    }

    /// The lower-case canonical text form used in events and the database.
    public var canonicalString: String { uuidString.lowercased() }
}
