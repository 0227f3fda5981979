import Testing

@testable import PeduliSettings

@Suite("Configuration key table")
struct ConfigurationKeysTests {
    @Test("names and environment names are unique, and each prefix group is contiguous")
    func uniqueness() {
        let names = ConfigurationKeys.all.map(\.name)
        #expect(Set(names).count == names.count)
        let environment = ConfigurationKeys.all.map(\.environmentName)
        #expect(Set(environment).count == environment.count)
        var seen: [String] = []
        for name in names {
            let group = String(name.split(separator: ".")[0])
            if seen.last != group {
                #expect(!seen.contains(group), "group \(group) is split")
                seen.append(group)
            }
        }
    }

    @Test("the keys operations rely on (docs/operations.md) exist with the documented defaults")
    func operationsKeys() {
        let expected: [String: String] = [
            "security.allowed_publishers": "", "roster.enforce": "true", "rules.nik_consistency": "reject",
            "rules.allow_pppk": "true", "worker.drain_seconds": "20", "metrics.listen": "127.0.0.1:9464",
        ]
        for (key, value) in expected {
            #expect(ConfigurationKeys.byName[key]?.defaultValue == value, "\(key)")
        }
        #expect(
            ConfigurationKeys.byName["worker.prefetch"] != nil && ConfigurationKeys.byName["worker.batch_size"] != nil)
    }

    @Test("environment names follow PEDULI_ + upper case with _ for .")
    func environmentNames() {
        #expect(
            ConfigurationKeys.byName["security.allowed_publishers"]?.environmentName
                == "PEDULI_SECURITY_ALLOWED_PUBLISHERS")
        #expect(ConfigurationKeys.byName["amqp.tls.ca_file"]?.environmentName == "PEDULI_AMQP_TLS_CA_FILE")
        #expect(ConfigurationKeys.byName["amqp.url"]?.environmentName == "PEDULI_AMQP_URL")
    }

    @Test(
        "did you mean",
        arguments: [
            ("worker.prefetc", "worker.prefetch"), ("worker.perfetch", "worker.prefetch"),
            ("rules.nik_consistancy", "rules.nik_consistency"), ("amqp.prefetch", "worker.prefetch"),
            ("security.allowed_publisher", "security.allowed_publishers"), ("colour", nil),
        ])
    func suggestions(unknown: String, expected: String?) {
        #expect(ConfigurationKeys.suggestion(for: unknown) == expected)
    }

    @Test(
        "secret keys",
        arguments: [("amqp.url", true), ("database.url", true), ("a.password", true), ("worker.prefetch", false)])
    func secrets(key: String, secret: Bool) {
        #expect(ConfigurationKey.isSecret(key) == secret)
    }
}
