/// The worker's name rule: 1–100 characters after trimming and collapsing white space; letters
/// of any script (with their combining marks), spaces, `.`, `,`, `'` and `-`.
///
/// Decision: every Unicode white space (tabs, newlines, NBSP) counts as a space for trimming and
/// collapsing; length is counted in user-perceived characters (grapheme clusters).
public enum PersonName {
    public static let maximumLength = 100

    /// The normalised name, or nil when it breaks the rule.
    public static func normalise(_ text: String) -> String? {
        let words = text.split(whereSeparator: { $0.isWhitespace })
        let name = words.joined(separator: " ")
        guard (1...maximumLength).contains(name.count) else { return nil }
        for ch in name {
            if ch == " " || ch == "." || ch == "," || ch == "'" || ch == "-" { continue }
            let scalars = ch.unicodeScalars
            guard let first = scalars.first, isLetter(first) else { return nil }
            for s in scalars.dropFirst() where !isLetter(s) && !isMark(s) { return nil }
        }
        return name
    }

    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isMark(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
    }
}
