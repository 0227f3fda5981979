import Foundation
import PeduliSettings

/// Typed access to the flat key space. Each read applies the key's own rule from the table
/// (`ConfigurationKey`), so the reader states no range or default of its own. A read that fails
/// records the key's `ConfigurationError`, located at the value's origin, and returns the key's
/// default, so that one load reports every problem rather than the first.
struct ConfigurationReader {
    let raw: RawConfiguration
    private(set) var errors: [ConfigurationError] = []

    init(_ raw: RawConfiguration) {
        self.raw = raw
    }

    /// A problem the table's checks cannot see (URLs, which need redaction; cross-key rules in code).
    mutating func fail(_ key: String, _ value: String?, expected: String, code: String = "invalid_value") {
        errors.append(
            ConfigurationError(
                code: code, key: key, value: value.map { Redaction.redact(key: key, value: $0) },
                expected: expected, origin: raw.entries[key]?.origin))
    }

    /// Records an error from a key's check (or a cross-key rule), with where its value came from.
    mutating func record(_ error: ConfigurationError) {
        errors.append(error.from(error.key.flatMap { raw.entries[$0]?.origin }))
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
        (text(key) ?? ConfigurationKeys[key].defaultValue ?? "").trimmingCharacters(in: .whitespaces)
    }

    mutating func integer(_ key: String) -> Int {
        do { return try ConfigurationKeys[key].integer(from: string(key)) } catch {
            record(error)
            return ConfigurationDefaults.integer(key)
        }
    }

    mutating func boolean(_ key: String) -> Bool {
        do { return try ConfigurationKeys[key].boolean(from: string(key)) } catch {
            record(error)
            return ConfigurationDefaults.boolean(key)
        }
    }

    mutating func choice(_ key: String) -> String {
        do { return try ConfigurationKeys[key].choice(from: string(key)) } catch {
            record(error)
            return ConfigurationDefaults.string(key)
        }
    }

    /// A non-empty name made of printable ASCII (AMQP short strings; no spaces).
    mutating func name(_ key: String) -> String {
        do { return try ConfigurationKeys[key].name(from: string(key)) } catch {
            record(error)
            return ConfigurationDefaults.string(key)
        }
    }

    /// `host:port`, `[v6]:port`; nil when empty (off). On error, the default address.
    mutating func listen(_ key: String) -> (host: String, port: UInt16)? {
        do { return try ConfigurationKeys[key].listen(from: string(key)) } catch {
            record(error)
            return ConfigurationDefaults.listen(key)
        }
    }

    /// The valid items of an `.integers` key (possibly none); an error for each bad one.
    mutating func integers(_ key: String) -> [Int] {
        let parsed = ConfigurationKeys[key].integers(from: list(key))
        parsed.errors.forEach { record($0) }
        return parsed.values
    }

    /// The items and their delays, or nil when any item is not a delay.
    mutating func delays(_ key: String) -> (names: [String], delays: [Duration])? {
        let names = list(key)
        let parsed = ConfigurationKeys[key].delays(from: names)
        parsed.errors.forEach { record($0) }
        return parsed.values.map { (names, $0) }
    }

    /// The well-formed rates in date order; an error for each problem of the table.
    mutating func rates(_ key: String) -> [ConfigurationRate] {
        let parsed = ConfigurationKeys[key].rates(from: list(key))
        parsed.errors.forEach { record($0) }
        return parsed.values
    }

    /// Records a cross-key rule's error, if any.
    mutating func check(_ rule: () throws(ConfigurationError) -> Void) {
        do { try rule() } catch { record(error) }
    }

    mutating func require(_ key: String, hint: String) {
        if raw.entries[key] == nil || list(key).isEmpty {
            errors.append(
                ConfigurationError(
                    code: "missing_value", key: key, value: nil, expected: hint, origin: nil))
        }
    }
}
