import AMQPClient
/// Where an effective value came from, so that an error says which knob to turn.
enum ConfigurationOrigin: Sendable, Equatable, CustomStringConvertible {
    case defaultValue
    case file(path: String, line: Int?)
    case environment(name: String)
    case credential(path: String)

    var description: String {
        switch self {
        case .defaultValue: "default"
        case .file(let path, let line): line.map { "\(path):\($0)" } ?? path
        case .environment(let name): "environment \(name)"
        case .credential(let path): "credential file \(path)"
        }
    }
}

/// One thing wrong with the configuration. `description` never contains a secret: values of
/// secret keys are redacted before they are stored here.
struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable machine value: `unknown_key`, `invalid_value`, `missing_value`, `wrong_shape`,
    /// `unreadable_file`, `invalid_yaml`.
    let code: String
    /// The dotted key, or nil for errors about a whole file.
    let key: String?
    /// The offending value, already redacted when the key is secret.
    let value: String?
    /// What would have been accepted, or what to do.
    let expected: String
    let origin: ConfigurationOrigin?

    var description: String {
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
struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    let errors: [ConfigurationError]

    var description: String {
        "configuration error" + (errors.count == 1 ? "" : "s (\(errors.count))") + ":\n"
            + errors.map { "  - \($0.description)" }.joined(separator: "\n")
    }
}

/// Removes secrets from values before they reach a message or `check-config`'s output.
enum Redaction {
    static let mask = "***"

    static func redact(key: String, value: String) -> String {
        if key.hasSuffix(".password") || key.hasSuffix("_password") { return value.isEmpty ? "" : mask }
        if ConfigurationKey.isSecret(key) { return redactConnectionString(value) }
        return value
    }

    /// Hides the password in URLs (`scheme://user:PASSWORD@host`, also in each element of a
    /// comma-separated list), in `password=` query parameters and in libpq `password=` keywords.
    static func redactConnectionString(_ value: String) -> String {
        var result = value
        if let range = result.range(of: "://") {
            result = redactURLs(result, schemeEnd: range)
        }
        return redactPasswordParameters(result)
    }

    private static func redactURLs(_ value: String, schemeEnd _: Range<String.Index>) -> String {
        URLList.split(value).map { item -> String in
            guard let scheme = item.range(of: "://") else { return item }
            let rest = item[scheme.upperBound...]
            // The userinfo ends at the last '@' (a password should be percent-encoded, but an
            // unencoded '@' or '/' in it must not leak either).
            guard let at = rest.lastIndex(of: "@") else { return item }
            let userinfo = rest[rest.startIndex..<at]
            guard let colon = userinfo.firstIndex(of: ":") else { return item }
            return String(item[..<scheme.upperBound]) + userinfo[..<colon] + ":" + mask + String(rest[at...])
        }.joined(separator: ",")
    }

    /// `password=...` as a query parameter (`&password=x`, `?password=x`) or libpq keyword
    /// (`password=x`, `password = 'x y'`).
    private static func redactPasswordParameters(_ value: String) -> String {
        var output = ""
        var index = value.startIndex
        let lower = value.lowercased()
        guard lower.count == value.count else { return value.contains("password") ? mask : value }
        while index < value.endIndex {
            let offset = value.distance(from: value.startIndex, to: index)
            let lowerIndex = lower.index(lower.startIndex, offsetBy: offset)
            let atBoundary = index == value.startIndex || " ?&;\t".contains(value[value.index(before: index)])
            if atBoundary, lower[lowerIndex...].hasPrefix("password") {
                var cursor = value.index(index, offsetBy: 8)
                while cursor < value.endIndex, value[cursor] == " " { cursor = value.index(after: cursor) }
                if cursor < value.endIndex, value[cursor] == "=" {
                    cursor = value.index(after: cursor)
                    while cursor < value.endIndex, value[cursor] == " " { cursor = value.index(after: cursor) }
                    output += "password=" + mask
                    if cursor < value.endIndex, value[cursor] == "'" {
                        cursor = value.index(after: cursor)
                        while cursor < value.endIndex, value[cursor] != "'" {
                            if value[cursor] == "\\" { cursor = value.index(after: cursor) }
                            if cursor < value.endIndex { cursor = value.index(after: cursor) }
                        }
                        if cursor < value.endIndex { cursor = value.index(after: cursor) }
                    } else {
                        while cursor < value.endIndex, !" &#".contains(value[cursor]) { cursor = value.index(after: cursor) }
                    }
                    index = cursor
                    continue
                }
            }
            output.append(value[index])
            index = value.index(after: index)
        }
        return output
    }
}
