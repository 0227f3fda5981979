import AMQPClient
import PeduliSettings

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
                        while cursor < value.endIndex, !" &#".contains(value[cursor]) {
                            cursor = value.index(after: cursor)
                        }
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
