import Foundation
import Logging
import PeduliDomain
import PeduliSettings
import PeduliWorker
import Testing

@testable import PeduliWorkerCommand

/// The configuration table is the only source of defaults and ranges: an empty configuration, the
/// settings structs, `PipelineConfiguration()` and `ProgrammeConfiguration()` all hold the table's
/// defaults, and a value out of range is the same `ConfigurationError` from the reader and from
/// the domain's validation.
@Suite("One source for every configuration key")
struct WiringTests {
    static let urls = [
        "PEDULI_AMQP_URL": "amqp://worker:s3cr3t@broker:5672/%2F",
        "PEDULI_DATABASE_URL": "postgresql://worker:pw0rd@db:5432/peduli",
    ]

    static func load(_ environment: [String: String] = [:]) throws(ConfigurationErrors) -> WorkerConfiguration {
        var loader = ConfigurationLoader(environment: urls.merging(environment) { _, new in new })
        loader.defaultFiles = []
        return try WorkerConfiguration.load(configPath: nil, requiring: .all, loader: loader)
    }

    /// `500ms`, `10s`, `1m`, `1h`: how the table writes a delay.
    static func text(_ delay: Duration) -> String {
        let milliseconds = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000)] where milliseconds % size == 0 {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    static func seconds(_ duration: Duration) -> String { String(duration.components.seconds) }

    /// Every key with a default, as the loaded configuration holds it, written as the table writes it.
    static func written(_ c: WorkerConfiguration) -> [String: String] {
        [
            "amqp.heartbeat_seconds": "\(c.amqp.heartbeatSeconds)",
            "amqp.connect_timeout_seconds": "\(c.amqp.connectTimeoutSeconds)",
            "amqp.tls.ca_file": c.amqp.tls.caFile, "amqp.tls.cert_file": c.amqp.tls.certFile,
            "amqp.tls.key_file": c.amqp.tls.keyFile, "amqp.tls.verify_peer": "\(c.amqp.tls.verifyPeer)",
            "amqp.tls.verify_hostname": "\(c.amqp.tls.verifyHostname)",
            "database.connect_timeout_seconds": "\(c.database.connectTimeoutSeconds)",
            "database.statement_timeout_ms": "\(c.database.statementTimeoutMilliseconds)",
            "worker.prefetch": "\(c.worker.prefetch)", "worker.database_threads": "\(c.worker.databaseThreads)",
            "worker.batch_size": "\(c.worker.batchSize)",
            "worker.batch_max_wait_ms": "\(c.worker.batchMaxWaitMilliseconds)",
            "worker.drain_seconds": "\(c.worker.drainSeconds)",
            "worker.max_message_bytes": "\(c.worker.maxMessageBytes)",
            "worker.startup_wait_seconds": "\(c.worker.startupWaitSeconds)",
            "worker.log_level": c.worker.logLevel.rawValue,
            "metrics.listen": c.metrics.host.map { "\($0):\(c.metrics.port)" } ?? "",
            "security.allowed_publishers": c.security.allowedPublishers.joined(separator: ","),
            "security.data_keys_file": c.security.dataKeysFile,
            "roster.enforce": "\(c.rules.rosterEnforce)", "rules.nik_consistency": c.rules.nikConsistency.rawValue,
            "rules.allow_pppk": "\(c.rules.allowPPPK)", "rules.grace_months": "\(c.rules.graceMonths)",
            "rules.due_day_of_month": "\(c.rules.dueDayOfMonth)",
            "rules.due_reminder_days": "\(c.rules.dueReminderDays)",
            "rules.first_payment_days": "\(c.rules.firstPaymentDays)",
            "rules.age_max_months": "\(c.rules.ageMaxMonths)",
            "rules.age_min_years": "\(c.rules.ageMinYears)",
            "rules.max_clock_skew_seconds": "\(c.rules.maxClockSkewSeconds)",
            "rules.payment_months": c.rules.paymentMonths.map(String.init).joined(separator: ","),
            "rules.rates": c.rules.rates.map(\.description).joined(separator: ","),
            "report.baseline_informal_workers": "\(c.rules.baselineInformalWorkers)",
            "report.baseline_covered": "\(c.rules.baselineCovered)",
            "scheduler.interval_seconds": "\(c.scheduler.intervalSeconds)",
            "privacy.retention_months": "\(c.scheduler.retentionMonths)",
            "catalogues.directory": c.rules.cataloguesDirectory ?? "",
            "topology.inbound_exchange": c.topology.inboundExchange,
            "topology.registrations_queue": c.topology.registrationsQueue,
            "topology.registrations_routing_key": c.topology.registrationsRoutingKey,
            "topology.payments_queue": c.topology.paymentsQueue,
            "topology.payments_routing_key": c.topology.paymentsRoutingKey,
            "topology.events_exchange": c.topology.eventsExchange, "topology.dead_exchange": c.topology.deadExchange,
            "topology.dead_queue": c.topology.deadQueue, "topology.retry_queue_prefix": c.topology.retryQueuePrefix,
            "topology.retry_delays": c.topology.retryDelays.map(text).joined(separator: ","),
            "topology.delivery_limit": "\(c.topology.deliveryLimit)",
        ]
    }

    /// The keys `PipelineConfiguration` holds, as its own initial values say them.
    static func written(_ p: PipelineConfiguration) -> [String: String] {
        [
            "worker.prefetch": "\(p.prefetch)", "worker.batch_size": "\(p.batchSize)",
            "worker.batch_max_wait_ms": String(
                p.batchMaxWait.components.seconds * 1000 + p.batchMaxWait.components.attoseconds / 1_000_000_000_000_000
            ),
            "worker.database_threads": "\(p.databaseThreads)", "worker.drain_seconds": seconds(p.drain),
            "worker.max_message_bytes": "\(p.maxMessageBytes)",
            "security.allowed_publishers": p.allowedPublishers.sorted().joined(separator: ","),
            "scheduler.interval_seconds": seconds(p.schedulerInterval),
            "privacy.retention_months": "\(p.retentionMonths)",
            "topology.inbound_exchange": p.topology.inboundExchange,
            "topology.registrations_queue": p.topology.registrationsQueue,
            "topology.registrations_routing_key": p.topology.registrationsRoutingKey,
            "topology.payments_queue": p.topology.paymentsQueue,
            "topology.payments_routing_key": p.topology.paymentsRoutingKey,
            "topology.events_exchange": p.topology.eventsExchange, "topology.dead_exchange": p.topology.deadExchange,
            "topology.dead_queue": p.topology.deadLettersQueue,
            "topology.retry_queue_prefix": p.topology.retryQueuePrefix,
            "topology.retry_delays": p.topology.retryDelays.map(text).joined(separator: ","),
            "topology.delivery_limit": "\(p.topology.deliveryLimit)",
        ]
    }

    /// The keys `ProgrammeConfiguration` holds, as its own initial values say them.
    static func written(_ p: ProgrammeConfiguration) -> [String: String] {
        [
            "roster.enforce": "\(p.enforceSponsorRoster)", "rules.nik_consistency": p.nikConsistency.rawValue,
            "rules.allow_pppk": "\(p.allowPPPK)", "rules.grace_months": "\(p.graceMonths)",
            "rules.due_day_of_month": "\(p.dueDayOfMonth)", "rules.due_reminder_days": "\(p.dueReminderDays)",
            "rules.first_payment_days": "\(p.firstPaymentDays)", "rules.age_max_months": "\(p.maximumAgeMonths)",
            "rules.age_min_years": "\(p.minimumAgeYears)", "rules.max_clock_skew_seconds": "\(Int(p.clockSkewSeconds))",
            "rules.payment_months": p.allowedPaymentMonths.sorted().map(String.init).joined(separator: ","),
            "rules.rates": p.contributionRates.rates.map { "\($0.effectiveFrom):\($0.monthlyAmount)" }.joined(
                separator: ","),
            "report.baseline_informal_workers": "\(p.baselineInformalWorkers)",
            "report.baseline_covered": "\(p.baselineCoveredWorkers)",
        ]
    }

    static let defaults: [String: String] = Dictionary(
        uniqueKeysWithValues: ConfigurationKeys.all.compactMap { key in key.defaultValue.map { (key.name, $0) } })

    @Test("with only the two URLs, every key has the default the table states")
    func emptyConfigurationIsTheTable() throws {
        let loaded = try Self.load()
        let written = Self.written(loaded)
        #expect(Set(written.keys) == Set(Self.defaults.keys), "a key without a default here, or one not compared")
        for (name, value) in Self.defaults {
            #expect(written[name] == value, "\(name)")
        }
        #expect(loaded.effective.allSatisfy { $0.origin == .defaultValue || $0.key.hasSuffix(".url") })
    }

    @Test("the settings structs, PipelineConfiguration() and ProgrammeConfiguration() start from the table too")
    func codeDefaultsAreTheTable() throws {
        #expect(Self.written(WorkerConfiguration()) == Self.defaults)
        for (name, value) in Self.written(PipelineConfiguration()) { #expect(Self.defaults[name] == value, "\(name)") }
        for (name, value) in Self.written(ProgrammeConfiguration()) { #expect(Self.defaults[name] == value, "\(name)") }
        let loaded = try Self.load()
        #expect(loaded.pipelineConfiguration() == PipelineConfiguration())
        #expect(Self.written(try loaded.programmeConfiguration()) == Self.written(ProgrammeConfiguration()))
    }

    @Test("worker.log_level offers exactly swift-log's levels")
    func logLevels() {
        #expect(ConfigurationKeys["worker.log_level"].rule == .choice(Logger.Level.allCases.map(\.rawValue)))
    }

    /// A programme setting just outside its range, as the environment and as code set it.
    struct OutOfRange: Sendable, CustomTestStringConvertible {
        let key: String
        let value: Int
        let set: @Sendable (inout ProgrammeConfiguration, Int) -> Void
        var testDescription: String { "\(key) = \(value)" }
    }

    static func outOfRange() -> [OutOfRange] {
        let setters: [(String, @Sendable (inout ProgrammeConfiguration, Int) -> Void)] = [
            ("rules.grace_months", { $0.graceMonths = $1 }), ("rules.due_day_of_month", { $0.dueDayOfMonth = $1 }),
            ("rules.due_reminder_days", { $0.dueReminderDays = $1 }),
            ("rules.first_payment_days", { $0.firstPaymentDays = $1 }),
            ("rules.age_max_months", { $0.maximumAgeMonths = $1 }),
            ("rules.age_min_years", { $0.minimumAgeYears = $1 }),
            ("rules.max_clock_skew_seconds", { $0.clockSkewSeconds = TimeInterval($1) }),
            ("report.baseline_informal_workers", { $0.baselineInformalWorkers = $1 }),
            ("report.baseline_covered", { $0.baselineCoveredWorkers = $1 }),
        ]
        return setters.flatMap { name, set -> [OutOfRange] in
            guard case .integer(let range) = ConfigurationKeys[name].rule else { return [] }
            return [range.lowerBound - 1, range.upperBound + 1].map { OutOfRange(key: name, value: $0, set: set) }
        }
    }

    @Test(
        "a value out of range is the same error from the reader and from the domain's validation",
        arguments: outOfRange())
    func sameErrorEverywhere(_ input: OutOfRange) throws {
        let environment = ConfigurationKeys[input.key].environmentName
        var fromReader: ConfigurationError?
        do { _ = try Self.load([environment: String(input.value)]) } catch {
            fromReader = error.errors.first { $0.key == input.key }
        }
        var programme = ProgrammeConfiguration()
        input.set(&programme, input.value)
        var fromDomain: ConfigurationError?
        do { try programme.validate() } catch { fromDomain = error }
        let reader = try #require(fromReader)
        #expect(reader.origin == .environment(name: environment))
        #expect(reader.from(nil) == fromDomain)
        #expect(reader.code == "invalid_value")
    }

    @Test("payment months and rates out of range: the same error from the reader and the domain")
    func sameErrorForLists() throws {
        var fromReader: [ConfigurationError] = []
        do { _ = try Self.load(["PEDULI_RULES_PAYMENT_MONTHS": "0,1", "PEDULI_RULES_RATES": "2019-12-02:0"]) } catch {
            fromReader = error.errors.map { $0.from(nil) }
        }
        let months = try #require(fromReader.first { $0.key == "rules.payment_months" })
        let rates = try #require(fromReader.first { $0.key == "rules.rates" })
        var programme = ProgrammeConfiguration()
        programme.allowedPaymentMonths = [0, 1]
        #expect(throws: months) { try programme.validate() }
        let day = try #require(JakartaDate.parse("2019-12-02"))
        #expect(throws: rates) { try ContributionRates([ContributionRate(effectiveFrom: day, monthlyAmount: 0)]) }
        #expect(rates.code == "bad_rate")
    }
}
