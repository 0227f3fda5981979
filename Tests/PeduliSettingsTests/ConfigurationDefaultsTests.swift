import Testing

@testable import PeduliSettings

@Suite("Table defaults")
struct ConfigurationDefaultsTests {
    /// Every default passes its own key's rule (else the first use of it would stop the process).
    @Test(
        "every default is accepted by its key's rule",
        arguments: ConfigurationKeys.all.filter { $0.defaultValue != nil }.map(\.name))
    func defaultParses(name: String) {
        switch ConfigurationKeys[name].rule {
        case .integer: _ = ConfigurationDefaults.integer(name)
        case .boolean: _ = ConfigurationDefaults.boolean(name)
        case .choice, .name, .text: _ = ConfigurationDefaults.string(name)
        case .listen: _ = ConfigurationDefaults.listen(name)
        case .urls, .words: _ = ConfigurationDefaults.list(name)
        case .integers: _ = ConfigurationDefaults.integers(name)
        case .delays: _ = ConfigurationDefaults.delays(name)
        case .rates: _ = ConfigurationDefaults.rates(name)
        }
    }

    @Test("defaults the operations docs state")
    func documented() {
        #expect(ConfigurationDefaults.integer("worker.drain_seconds") == 20)
        #expect(ConfigurationDefaults.integer("rules.due_reminder_days") == 7)
        #expect(ConfigurationDefaults.integer("rules.first_payment_days") == 14)
        #expect(ConfigurationDefaults.integer("rules.age_max_months") == 779)
        #expect(ConfigurationDefaults.integer("rules.age_min_years") == 18)
        #expect(ConfigurationDefaults.integer("rules.grace_months") == 3)
        #expect(ConfigurationDefaults.integers("rules.payment_months") == [1, 2, 3, 6, 12])
        #expect(
            ConfigurationDefaults.rates("rules.rates") == [
                ConfigurationRate(effectiveFrom: "2019-12-02", monthlyAmount: 16_800)
            ])
        #expect(
            ConfigurationDefaults.delays("topology.retry_delays") == [
                .seconds(10), .seconds(60), .seconds(600), .seconds(3600),
            ])
        #expect(ConfigurationDefaults.listen("metrics.listen")?.port == 9464)
        #expect(ConfigurationDefaults.list("security.allowed_publishers").isEmpty)
    }

    @Test("cross-key rules")
    func crossKey() {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationRules.checkAges(minimumYears: 66, maximumMonths: 779)
        }
        #expect(throws: Never.self) { try ConfigurationRules.checkAges(minimumYears: 18, maximumMonths: 779) }
        #expect(throws: ConfigurationError.self) {
            try ConfigurationRules.checkBaseline(covered: 2, informalWorkers: 1)
        }
        #expect(throws: ConfigurationError.self) { try ConfigurationRules.checkBatch(size: 401, prefetch: 400) }
    }
}
