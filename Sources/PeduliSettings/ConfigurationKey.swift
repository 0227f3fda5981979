/// What values a configuration key accepts. The rule lives next to the key's default in
/// `ConfigurationKeys.all`, so the reader, the domain's validation and the example file cannot
/// disagree about it (they used to: two ranges for one key meant two different errors).
public enum ValueRule: Sendable, Hashable {
    /// A whole number inside the range.
    case integer(ClosedRange<Int>)
    /// `true`/`false` and their usual spellings.
    case boolean
    /// One of these exact words.
    case choice([String])
    /// An AMQP short string: 1 to 255 printable ASCII characters, no spaces (exchange, queue and
    /// routing-key names).
    case name
    /// Free text, empty allowed (file and directory paths).
    case text
    /// `host:port` or `[v6]:port`; empty turns the listener off.
    case listen
    /// A list of URLs, each with one of these schemes.
    case urls(schemes: [String])
    /// A list of free words (AMQP user names).
    case words
    /// A non-empty list of whole numbers, each in the range; `unit` names them in messages.
    case integers(ClosedRange<Int>, unit: String)
    /// An increasing list of delays such as `500ms`, `10s`, `1m`, `1h`, each at most `maximum`
    /// milliseconds.
    case delays(maximumMilliseconds: Int64)
    /// A non-empty list of `EFFECTIVE-DATE:AMOUNT`, one per date, each amount in the range.
    case rates(amount: ClosedRange<Int>)

    /// What the example file says about the accepted values, where the summary does not already.
    public var hint: String? {
        switch self {
        case .integer(let range): "\(range.lowerBound) to \(range.upperBound)"
        case .integers(let range, _): "each \(range.lowerBound) to \(range.upperBound)"
        case .rates(let amount): "amounts \(amount.lowerBound) to \(amount.upperBound)"
        case .boolean, .choice, .name, .text, .listen, .urls, .words, .delays: nil
        }
    }
}

/// One configuration key: its dotted name, default, accepted values and meaning.
///
/// The single description of a setting. Everything else (environment name, example file,
/// `check-config`, the typed defaults of the settings structs, `PipelineConfiguration` and
/// `ProgrammeConfiguration`) is derived from it.
public struct ConfigurationKey: Sendable, Hashable {
    public let name: String
    /// The default as it would be written in the environment (lists comma-separated); nil: no
    /// default (the key must be set, like the connection URLs).
    public let defaultValue: String?
    public let rule: ValueRule
    /// One line for the example file and `check-config`.
    public let summary: String

    public init(_ name: String, _ defaultValue: String?, _ rule: ValueRule, _ summary: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.rule = rule
        self.summary = summary
    }

    /// Whether the value is a list (YAML sequence, or comma-separated text in the environment).
    public var isList: Bool {
        switch rule {
        case .urls, .words, .integers, .delays, .rates: true
        case .integer, .boolean, .choice, .name, .text, .listen: false
        }
    }

    /// `PEDULI_` + the dotted path upper-cased with `_` for `.` (docs/operations.md, Environment).
    public var environmentName: String {
        "PEDULI_" + String(name.uppercased().map { $0 == "." ? "_" : $0 })
    }

    /// Secret values are redacted in every message and in `check-config`'s output.
    public var isSecret: Bool { Self.isSecret(name) }

    public static func isSecret(_ name: String) -> Bool {
        name == "amqp.url" || name == "database.url" || name.hasSuffix(".password") || name.hasSuffix("_password")
    }
}
