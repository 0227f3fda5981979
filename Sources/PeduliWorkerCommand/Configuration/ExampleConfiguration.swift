import PeduliSettings

/// Renders `config/peduli-worker.example.yaml` from the key table: every key, its default and a
/// comment with its meaning and, for numbers, its range. A test compares the committed file with
/// this output, so the example cannot drift.
enum ExampleConfiguration {
    static func render() -> String {
        var text = """
            # peduli-worker configuration: every key with its default.
            #
            # Copy to /etc/peduli-worker/config.yaml (or pass --config PATH, or set PEDULI_CONFIG) and
            # keep only what you change. Each key can also be set in the environment as PEDULI_ + the
            # dotted key in upper case with _ for . (lists comma-separated), for example
            # PEDULI_WORKER_PREFETCH=128 or PEDULI_SECURITY_ALLOWED_PUBLISHERS=portal,kiosk.
            # The environment wins over this file.
            #
            # No secrets here: the broker and database URLs (which carry passwords) come from
            # PEDULI_AMQP_URL / PEDULI_DATABASE_URL, from PEDULI_AMQP_URL_FILE / PEDULI_DATABASE_URL_FILE,
            # or from systemd credentials amqp_url / database_url (LoadCredential=).
            #
            # `peduli-worker check-config` prints the effective values and where each came from.

            """
        var open: [String] = []
        for key in ConfigurationKeys.all {
            let path = key.name.split(separator: ".").map(String.init)
            let parents = Array(path.dropLast())
            var common = 0
            while common < min(open.count, parents.count), open[common] == parents[common] { common += 1 }
            if common < parents.count || common < open.count { text += "\n" }
            for depth in common..<parents.count {
                text += String(repeating: "  ", count: depth) + parents[depth] + ":\n"
            }
            open = parents
            let indent = String(repeating: "  ", count: parents.count)
            text += indent + "# " + key.summary + (key.rule.hint.map { "; \($0)" } ?? "") + "\n"
            if let value = key.defaultValue {
                text += indent + path.last! + ": " + yamlValue(value, list: key.isList) + "\n"
            } else {
                text += indent + "# " + path.last! + ": (no default; see above)\n"
            }
        }
        return text
    }

    static func yamlValue(_ value: String, list: Bool) -> String {
        if list {
            return "[" + ConfigurationLoader.splitList(value).map(scalar).joined(separator: ", ") + "]"
        }
        return scalar(value)
    }

    private static func scalar(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || "._-".unicodeScalars.contains($0)
            }
        if plain { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            + "\""
    }
}
