/// An Indonesian mobile number normalised to `+628…`. Personal data: `description` is redacted.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `+628…`; store it, never print it.
    public let e164: String

    public var description: String { "+62********" }
    public var debugDescription: String { "PhoneNumber(redacted)" }

    /// Spaces and dashes are ignored; `08…`, `628…` and `+628…` are accepted; the digits after
    /// `+62` must start with 8 and number 9 to 12. Anything else is nil.
    public static func normalise(_ text: String) -> PhoneNumber? {
        let compact = text.filter { $0 != " " && $0 != "-" }
        let rest: Substring
        if compact.hasPrefix("+62") {
            rest = compact.dropFirst(3)
        } else if compact.hasPrefix("62") {
            rest = compact.dropFirst(2)
        } else if compact.hasPrefix("0") {
            rest = compact.dropFirst(1)
        } else {
            return nil
        }
        guard (9...12).contains(rest.count), rest.first == "8",
            rest.unicodeScalars.allSatisfy({ $0.value >= 0x30 && $0.value <= 0x39 })
        else { return nil }
        return PhoneNumber(e164: "+62" + rest)
    }
}
