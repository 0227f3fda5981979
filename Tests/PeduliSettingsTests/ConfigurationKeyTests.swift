import Testing

@testable import PeduliSettings

@Suite("Configuration key")
struct ConfigurationKeyTests {
    @Test("lists are the keys whose rule takes several values")
    func lists() {
        let lists = Set(ConfigurationKeys.all.filter(\.isList).map(\.name))
        #expect(
            lists == [
                "amqp.url", "security.allowed_publishers", "rules.payment_months", "rules.rates",
                "topology.retry_delays",
            ])
    }

    @Test("only the connection URLs have no default")
    func required() {
        #expect(
            Set(ConfigurationKeys.all.filter { $0.defaultValue == nil }.map(\.name)) == ["amqp.url", "database.url"])
    }

    @Test("a secret key's value never reaches an error")
    func secretsMasked() {
        let error = ConfigurationKeys["amqp.url"].invalid("amqp://u:topsecret@h/", expected: "x")
        #expect(error.value == "***" && !error.description.contains("topsecret"))
        #expect(ConfigurationKeys["worker.prefetch"].invalid("0", expected: "x").value == "0")
    }

    @Test("the example's range hints")
    func hints() {
        #expect(ConfigurationKeys["worker.prefetch"].rule.hint == "1 to 65535")
        #expect(ConfigurationKeys["rules.payment_months"].rule.hint == "each 1 to 120")
        #expect(ConfigurationKeys["roster.enforce"].rule.hint == nil)
    }
}
