import Foundation

/// Reads typed fields out of a JSON object and records `missing_field` / `invalid_type` under
/// the field's dotted path, so that decoding reports every problem at once.
/// An optional field sent as `null` counts as absent; a required one is `missing_field`.
struct FieldReader {
    var errors: [RuleViolation] = []

    private func path(_ prefix: String, _ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    /// The raw value, recording `missing_field` when a required one is absent or null.
    private mutating func raw(_ obj: JSONObject, _ key: String, _ prefix: String, required: Bool) -> JSONValue? {
        switch obj[key] {
        case nil, .null?:
            if required { errors.append(.missing(path(prefix, key))) }
            return nil
        case let v?:
            return v
        }
    }

    mutating func object(_ obj: JSONObject, _ key: String, in prefix: String = "", required: Bool = true) -> JSONObject?
    {
        guard let v = raw(obj, key, prefix, required: required) else { return nil }
        guard case .object(let o) = v else {
            errors.append(.invalidType(path(prefix, key), expected: "objek"))
            return nil
        }
        return o
    }

    mutating func string(_ obj: JSONObject, _ key: String, in prefix: String = "", required: Bool = true) -> String? {
        guard let v = raw(obj, key, prefix, required: required) else { return nil }
        guard case .string(let s) = v else {
            errors.append(.invalidType(path(prefix, key), expected: "teks"))
            return nil
        }
        return s
    }

    /// An optional free-text field under `FreeText`'s rule; a violation is a field error with `code`.
    mutating func freeText(_ obj: JSONObject, _ key: String, in prefix: String, limit: Int, code: RuleCode) -> String? {
        guard let text = string(obj, key, in: prefix, required: false) else { return nil }
        switch FreeText.check(text, maximumLength: limit) {
        case .absent: return nil
        case .valid(let value): return value
        case .tooLong: fail(path(prefix, key), code, "Paling banyak \(limit) karakter")
        case .controlCharacter: fail(path(prefix, key), code, "Tidak boleh berisi karakter kontrol")
        }
        return nil
    }

    /// Integers only: `16800.0`, `1.68e4` and integers beyond Int64 are `invalid_type`.
    mutating func int(_ obj: JSONObject, _ key: String, in prefix: String = "", required: Bool = true) -> Int64? {
        guard let v = raw(obj, key, prefix, required: required) else { return nil }
        guard case .int(let i) = v else {
            errors.append(.invalidType(path(prefix, key), expected: "bilangan bulat"))
            return nil
        }
        return i
    }

    mutating func bool(_ obj: JSONObject, _ key: String, in prefix: String = "", required: Bool = true) -> Bool? {
        guard let v = raw(obj, key, prefix, required: required) else { return nil }
        guard case .bool(let b) = v else {
            errors.append(.invalidType(path(prefix, key), expected: "true atau false"))
            return nil
        }
        return b
    }

    mutating func fail(_ field: String, _ code: RuleCode, _ message: String? = nil) {
        errors.append(RuleViolation(field: field, code: code, message: message))
    }

    /// `schema_version`: absent (or null) means 1; anything else is `unsupported_schema_version`
    /// (a non-integer is `invalid_type`).
    mutating func schemaVersion(_ obj: JSONObject) {
        if let v = int(obj, "schema_version", required: false), v != 1 {
            fail("schema_version", .unsupportedSchemaVersion)
        }
    }

    /// A UUID in its usual 8-4-4-4-12 text form, any case.
    mutating func uuid(_ obj: JSONObject, _ key: String) -> UUID? {
        guard let s = string(obj, key) else { return nil }
        guard UUID.isCanonicalText(s), let id = UUID(uuidString: s) else {
            fail(key, .invalidFormat, "Kolom \(key) harus berupa UUID")
            return nil
        }
        return id
    }

    /// An RFC 3339 time with offset, not more than the configured skew ahead of `now`.
    /// Returns the time when it is well-formed, plus whether it passed every rule.
    mutating func timestamp(_ obj: JSONObject, _ key: String, now: Date, skew: TimeInterval) -> (Date, valid: Bool)? {
        guard let s = string(obj, key) else { return nil }
        guard let t = RFC3339.parse(s) else {
            fail(key, .invalidFormat, "Kolom \(key) harus berupa waktu RFC 3339 dengan zona waktu")
            return nil
        }
        if t.timeIntervalSince(now) > skew {
            fail(key, .inFuture, "Waktu pada kolom \(key) tidak boleh di masa depan")
            return (t, false)
        }
        return (t, true)
    }
}
