/// The rule for the free-text fields (docs/rules.md): trimmed, bounded in length, no control characters.
///
/// Why: these fields go to PostgreSQL, to events and to operators' screens. A NUL is refused by libpq, so
/// before this rule one NUL in an address made a command fail on every attempt until the broker parked it;
/// other control characters (newlines, escapes) forge log lines and terminal output; an unbounded address
/// (60,000 characters were stored once) costs memory in every batch it passes through. A field error is
/// decided like any other: the command is rejected, listing it with the rest.
///
/// Decision: length is counted in user-perceived characters (as `worker.name`), after trimming white space;
/// text that is empty after trimming counts as absent.
public enum FreeText {
    public static let addressMaximumLength = 200
    public static let sponsorTextMaximumLength = 100

    public enum Verdict: Equatable, Sendable {
        case absent
        case valid(String)
        case tooLong
        case controlCharacter
    }

    public static func check(_ text: String, maximumLength: Int) -> Verdict {
        if text.unicodeScalars.contains(where: isControl) { return .controlCharacter }
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        if trimmed.isEmpty { return .absent }
        return trimmed.count > maximumLength ? .tooLong : .valid(trimmed)
    }

    /// U+0000–U+001F and U+007F.
    static func isControl(_ s: Unicode.Scalar) -> Bool { s.value < 0x20 || s.value == 0x7F }
}

/// A street address. Personal data: `description` is redacted.
public struct Address: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var description: String { "<address redacted>" }
    public var debugDescription: String { "Address(redacted)" }
}
