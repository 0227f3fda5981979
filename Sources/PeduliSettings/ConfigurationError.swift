/// Where an effective value came from, so that an error says which knob to turn.
public enum ConfigurationOrigin: Sendable, Equatable, CustomStringConvertible {
    case defaultValue
    /// A configuration file, or a catalogue file under `catalogues.directory`.
    case file(path: String, line: Int?)
    case environment(name: String)
    case credential(path: String)

    public var description: String {
        switch self {
        case .defaultValue: "default"
        case .file(let path, let line): line.map { "\(path):\($0)" } ?? path
        case .environment(let name): "environment \(name)"
        case .credential(let path): "credential file \(path)"
        }
    }
}

/// The one error type for every configuration problem, whichever layer finds it: the reader
/// (file, environment, credentials), the domain's `ProgrammeConfiguration.validate`, the
/// contribution table and the catalogues. One type, so that an out-of-range value gives the same
/// error wherever it is checked (`ConfigurationKey.check`).
///
/// `description` never contains a secret: values of secret keys are redacted before they are
/// stored here (`ConfigurationKey.invalid` masks them whole).
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable machine value. The reader: `unknown_key`, `invalid_value`, `missing_value`,
    /// `wrong_shape`, `unreadable_file`, `invalid_yaml`. The contribution table (from either
    /// side): `empty`, `bad_rate`, `duplicate_rate_date`. Catalogues: `missing_file`,
    /// `bad_header`, `bad_row`, `duplicate_code`, `unknown_kecamatan`, `empty`.
    public let code: String
    /// The dotted key, or nil for errors about a whole file.
    public let key: String?
    /// The offending value, already redacted when the key is secret.
    public let value: String?
    /// What would have been accepted, or what to do.
    public let expected: String
    /// Where the value came from; nil when it was set in code (the domain's own validation).
    public var origin: ConfigurationOrigin?

    public init(code: String, key: String?, value: String?, expected: String, origin: ConfigurationOrigin? = nil) {
        self.code = code
        self.key = key
        self.value = value
        self.expected = expected
        self.origin = origin
    }

    /// The same error, said to come from `origin` (the reader knows the source; the check does not).
    public func from(_ origin: ConfigurationOrigin?) -> ConfigurationError {
        var copy = self
        copy.origin = origin
        return copy
    }

    /// The file the problem is in, when it is in one (catalogue rows, configuration files).
    public var file: String? {
        if case .file(let path, _) = origin { return path }
        return nil
    }

    /// The line of that file, when known.
    public var line: Int? {
        if case .file(_, let line) = origin { return line }
        return nil
    }

    public var description: String {
        var text = ""
        switch code {
        case "unknown_key":
            text = "unknown key '\(key ?? "")'"
        case "missing_value":
            text = "\(key ?? "") is not set"
        case "unreadable_file", "invalid_yaml":
            text = value ?? "configuration file"
        default:
            text = key ?? "configuration file"
            if let value { text += " = \"\(value)\"" }
        }
        if let origin, code != "unreadable_file", code != "invalid_yaml" { text += " (from \(origin))" }
        return text + (code == "invalid_value" ? ": expected " : ": ") + expected
    }
}

/// Every problem found in one load, so that an operator fixes them all in one go.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public let errors: [ConfigurationError]

    public init(errors: [ConfigurationError]) {
        self.errors = errors
    }

    public var description: String {
        "configuration error" + (errors.count == 1 ? "" : "s (\(errors.count))") + ":\n"
            + errors.map { "  - \($0.description)" }.joined(separator: "\n")
    }
}
