import Foundation

/// Typed access to the flat key space. Each read that fails records a `ConfigurationError` and
/// returns the key's default, so that one load reports every problem rather than the first.
struct ConfigurationReader {
    let raw: RawConfiguration
    private(set) var errors: [ConfigurationError] = []

    init(_ raw: RawConfiguration) {
        self.raw = raw
    }

    mutating func fail(_ key: String, _ value: String?, expected: String, code: String = "invalid_value") {
        errors.append(ConfigurationError(
            code: code, key: key, value: value.map { Redaction.redact(key: key, value: $0) },
            expected: expected, origin: raw.entries[key]?.origin))
    }

    private func defaultText(_ key: String) -> String {
        precondition(ConfigurationKeys.byName[key] != nil, "unknown configuration key \(key)")
        return ConfigurationKeys.byName[key]?.defaultValue ?? ""
    }

    /// The value as one string; lists are rejected for scalar keys by the loader.
    func text(_ key: String) -> String? {
        switch raw.entries[key]?.value {
        case .scalar(let text): text
        case .list(let items): items.joined(separator: ",")
        case nil: nil
        }
    }

    func list(_ key: String) -> [String] {
        switch raw.entries[key]?.value {
        case .list(let items): items
        case .scalar(let text): ConfigurationLoader.splitList(text)
        case nil: []
        }
    }

    func string(_ key: String) -> String {
        (text(key) ?? defaultText(key)).trimmingCharacters(in: .whitespaces)
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) -> Int {
        let value = string(key)
        guard let number = Int(value), range.contains(number) else {
            fail(key, value, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
            return Int(defaultText(key)) ?? range.lowerBound
        }
        return number
    }

    /// `true`/`false` and the usual spellings of them (`yes`, `no`, `on`, `off`, `1`, `0`).
    mutating func boolean(_ key: String) -> Bool {
        let value = string(key)
        switch value.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default:
            fail(key, value, expected: "true or false")
            return defaultText(key) == "true"
        }
    }

    mutating func choice(_ key: String, _ allowed: [String]) -> String {
        let value = string(key)
        guard allowed.contains(value) else {
            fail(key, value, expected: "one of " + allowed.joined(separator: ", "))
            return defaultText(key)
        }
        return value
    }

    /// A non-empty name made of printable ASCII (AMQP short strings; no spaces).
    mutating func name(_ key: String) -> String {
        let value = string(key)
        guard !value.isEmpty, value.utf8.count <= 255,
            value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else {
            fail(key, value, expected: "a name of 1 to 255 printable ASCII characters without spaces")
            return defaultText(key)
        }
        return value
    }

    mutating func require(_ key: String, hint: String) {
        if raw.entries[key] == nil || list(key).isEmpty {
            errors.append(ConfigurationError(
                code: "missing_value", key: key, value: nil, expected: hint, origin: nil))
        }
    }

    /// `10s`, `1m`, `10m`, `1h`, `500ms`: a positive whole number and a unit.
    static func parseDelay(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (unit, milliseconds) in units where text.hasSuffix(unit) {
            let number = text.dropLast(unit.count)
            guard let value = Int64(number), value > 0, value <= 86_400_000 / milliseconds else { return nil }
            return .milliseconds(value * milliseconds)
        }
        return nil
    }

    /// `host:port`, `[v6]:port`; empty disables.
    static func parseListen(_ text: String) -> (host: String, port: UInt16)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = UInt16(portText) else { return nil }
        return (String(host), port)
    }
}
