import Foundation
import Logging
import PeduliSettings

/// The typed settings. Every initial value is the configuration table's default
/// (`ConfigurationDefaults`), so these structs never restate one; `WorkerConfiguration.from`
/// overwrites each with what the configuration says.

/// Connection to RabbitMQ.
struct AMQPSettings: Sendable, Equatable {
    /// Broker URLs in the order they are tried (`amqp.url`, comma-separated for a cluster). Secret:
    /// contains the password. Empty when not configured; `run` requires it.
    var urls: [String] = []
    /// `amqp.heartbeat_seconds`; 0 turns heartbeats off.
    var heartbeatSeconds = ConfigurationDefaults.integer("amqp.heartbeat_seconds")
    /// `amqp.connect_timeout_seconds`.
    var connectTimeoutSeconds = ConfigurationDefaults.integer("amqp.connect_timeout_seconds")
    /// `amqp.tls.*`: used for `amqps://` URLs only.
    var tls = TLSSettings()

    struct TLSSettings: Sendable, Equatable {
        /// Empty: the system's trust store.
        var caFile = ConfigurationDefaults.string("amqp.tls.ca_file")
        var certFile = ConfigurationDefaults.string("amqp.tls.cert_file")
        var keyFile = ConfigurationDefaults.string("amqp.tls.key_file")
        var verifyPeer = ConfigurationDefaults.boolean("amqp.tls.verify_peer")
        var verifyHostname = ConfigurationDefaults.boolean("amqp.tls.verify_hostname")
    }
}

/// Connection to PostgreSQL.
struct DatabaseSettings: Sendable, Equatable {
    /// `database.url`: a `postgresql://` URL or libpq connection string. Secret.
    var url: String?
    /// `database.connect_timeout_seconds`.
    var connectTimeoutSeconds = ConfigurationDefaults.integer("database.connect_timeout_seconds")
    /// `database.statement_timeout_ms`; 0 means none.
    var statementTimeoutMilliseconds = ConfigurationDefaults.integer("database.statement_timeout_ms")
}

/// Consumer and batching knobs (`worker.*`).
struct WorkerTuning: Sendable, Equatable {
    /// `worker.prefetch` (basic.qos prefetch count).
    var prefetch = ConfigurationDefaults.integer("worker.prefetch")
    /// `worker.batch_size`; never above `prefetch` (a batch could not fill).
    var batchSize = ConfigurationDefaults.integer("worker.batch_size")
    var databaseThreads = ConfigurationDefaults.integer("worker.database_threads")
    var batchMaxWaitMilliseconds = ConfigurationDefaults.integer("worker.batch_max_wait_ms")
    /// `worker.drain_seconds`: graceful stop bound; systemd's TimeoutStopSec must exceed it.
    var drainSeconds = ConfigurationDefaults.integer("worker.drain_seconds")
    var maxMessageBytes = ConfigurationDefaults.integer("worker.max_message_bytes")
    /// `worker.startup_wait_seconds`: after that, exit 69.
    var startupWaitSeconds = ConfigurationDefaults.integer("worker.startup_wait_seconds")
    var logLevel = Logger.Level(rawValue: ConfigurationDefaults.string("worker.log_level"))!
}

/// The Prometheus endpoint.
struct MetricsSettings: Sendable, Equatable {
    /// `metrics.listen`; nil when set to empty (endpoint off).
    var host: String? = ConfigurationDefaults.listen("metrics.listen")?.host
    var port: UInt16 = ConfigurationDefaults.listen("metrics.listen")?.port ?? 0
    var isEnabled: Bool { host != nil }
}

/// Who may publish commands.
struct SecuritySettings: Sendable, Equatable {
    /// `security.allowed_publishers`; empty: no check.
    var allowedPublishers = ConfigurationDefaults.list("security.allowed_publishers")
    /// `security.data_keys_file`; empty: not set (commands that touch personal data refuse to start).
    var dataKeysFile = ConfigurationDefaults.string("security.data_keys_file")
}

/// Broker object names (`topology.*`; docs/operations.md and the contract's broker topology).
struct TopologyNames: Sendable, Equatable {
    var inboundExchange = ConfigurationDefaults.string("topology.inbound_exchange")
    var registrationsQueue = ConfigurationDefaults.string("topology.registrations_queue")
    var registrationsRoutingKey = ConfigurationDefaults.string("topology.registrations_routing_key")
    var paymentsQueue = ConfigurationDefaults.string("topology.payments_queue")
    var paymentsRoutingKey = ConfigurationDefaults.string("topology.payments_routing_key")
    var eventsExchange = ConfigurationDefaults.string("topology.events_exchange")
    var deadExchange = ConfigurationDefaults.string("topology.dead_exchange")
    var deadQueue = ConfigurationDefaults.string("topology.dead_queue")
    var retryQueuePrefix = ConfigurationDefaults.string("topology.retry_queue_prefix")
    /// `topology.retry_delays`.
    var retryDelays = ConfigurationDefaults.delays("topology.retry_delays")
    /// The spelling used in the configuration, for queue names (`peduli.retry.10s`).
    var retryDelayNames = ConfigurationDefaults.list("topology.retry_delays")
    var deliveryLimit = ConfigurationDefaults.integer("topology.delivery_limit")
}

/// The reminder scheduler.
struct SchedulerSettings: Sendable, Equatable {
    /// `scheduler.interval_seconds`.
    var intervalSeconds = ConfigurationDefaults.integer("scheduler.interval_seconds")
    /// `privacy.retention_months`.
    var retentionMonths = ConfigurationDefaults.integer("privacy.retention_months")
}

/// The programme's rules, typed but not interpreted: PeduliDomain owns their meaning.
/// `programmeConfiguration()` (Wiring.swift) turns them into the domain's configuration.
struct RulesSettings: Sendable, Equatable {
    enum NIKConsistency: String, Sendable, Equatable { case reject, warn }

    /// One `rules.rates` entry: `YYYY-MM-DD` on the Jakarta calendar and whole rupiah a month.
    typealias Rate = ConfigurationRate

    var rosterEnforce = ConfigurationDefaults.boolean("roster.enforce")
    var nikConsistency = NIKConsistency(rawValue: ConfigurationDefaults.string("rules.nik_consistency"))!
    var allowPPPK = ConfigurationDefaults.boolean("rules.allow_pppk")
    var graceMonths = ConfigurationDefaults.integer("rules.grace_months")
    var dueDayOfMonth = ConfigurationDefaults.integer("rules.due_day_of_month")
    var dueReminderDays = ConfigurationDefaults.integer("rules.due_reminder_days")
    var firstPaymentDays = ConfigurationDefaults.integer("rules.first_payment_days")
    var ageMaxMonths = ConfigurationDefaults.integer("rules.age_max_months")
    var ageMinYears = ConfigurationDefaults.integer("rules.age_min_years")
    var maxClockSkewSeconds = ConfigurationDefaults.integer("rules.max_clock_skew_seconds")
    /// Sorted, without repeats.
    var paymentMonths = Array(Set(ConfigurationDefaults.integers("rules.payment_months"))).sorted()
    /// Sorted by date, at least one.
    var rates = ConfigurationDefaults.rates("rules.rates")
    var baselineInformalWorkers = ConfigurationDefaults.integer("report.baseline_informal_workers")
    var baselineCovered = ConfigurationDefaults.integer("report.baseline_covered")
    /// `catalogues.directory`; nil: the catalogues built into the executable.
    var cataloguesDirectory: String? = Optional(ConfigurationDefaults.string("catalogues.directory")).flatMap {
        $0.isEmpty ? nil : $0
    }
}

/// Everything the worker reads from its configuration, typed and validated.
struct WorkerConfiguration: Sendable {
    var amqp = AMQPSettings()
    var database = DatabaseSettings()
    var worker = WorkerTuning()
    var metrics = MetricsSettings()
    var security = SecuritySettings()
    var topology = TopologyNames()
    var scheduler = SchedulerSettings()
    var rules = RulesSettings()
    /// The configuration file read, if any.
    var filePath: String?
    /// Every key with its effective value (secrets redacted) and origin, for `check-config`.
    var effective: [(key: String, value: String, origin: ConfigurationOrigin?)] = []

    /// Which connection URLs a command needs: `run` both, `migrate`/imports/reports the database.
    struct Requirements: OptionSet, Sendable {
        let rawValue: Int
        static let amqp = Requirements(rawValue: 1)
        static let database = Requirements(rawValue: 2)
        static let all: Requirements = [.amqp, .database]
    }

    /// Loads and validates. Throws every problem found at once.
    static func load(
        configPath: String?,
        requiring requirements: Requirements,
        loader: ConfigurationLoader = ConfigurationLoader()
    ) throws(ConfigurationErrors) -> WorkerConfiguration {
        let raw = try loader.load(configPath: configPath)
        return try from(raw, requiring: requirements)
    }

    static func from(
        _ raw: RawConfiguration, requiring requirements: Requirements
    ) throws(ConfigurationErrors)
        -> WorkerConfiguration
    {
        var reader = ConfigurationReader(raw)
        var configuration = WorkerConfiguration()
        configuration.filePath = raw.filePath

        // AMQP
        if requirements.contains(.amqp) {
            reader.require("amqp.url", hint: "set PEDULI_AMQP_URL, PEDULI_AMQP_URL_FILE or the amqp_url credential")
        }
        let amqpURLs = reader.list("amqp.url")
        for url in amqpURLs where !ConfigurationKeys["amqp.url"].accepts(url: url) {
            reader.fail("amqp.url", url, expected: ConfigurationKeys["amqp.url"].urlExpectation)
        }
        configuration.amqp.urls = amqpURLs
        configuration.amqp.heartbeatSeconds = reader.integer("amqp.heartbeat_seconds")
        configuration.amqp.connectTimeoutSeconds = reader.integer("amqp.connect_timeout_seconds")
        configuration.amqp.tls.caFile = reader.string("amqp.tls.ca_file")
        configuration.amqp.tls.certFile = reader.string("amqp.tls.cert_file")
        configuration.amqp.tls.keyFile = reader.string("amqp.tls.key_file")
        configuration.amqp.tls.verifyPeer = reader.boolean("amqp.tls.verify_peer")
        configuration.amqp.tls.verifyHostname = reader.boolean("amqp.tls.verify_hostname")
        if configuration.amqp.tls.certFile.isEmpty != configuration.amqp.tls.keyFile.isEmpty {
            reader.fail(
                "amqp.tls.key_file", configuration.amqp.tls.keyFile,
                expected: "both amqp.tls.cert_file and amqp.tls.key_file, or neither")
        }

        // Database
        if requirements.contains(.database) {
            reader.require(
                "database.url", hint: "set PEDULI_DATABASE_URL, PEDULI_DATABASE_URL_FILE or the database_url credential"
            )
        }
        if let url = reader.text("database.url")?.trimmingCharacters(in: .whitespaces), !url.isEmpty {
            configuration.database.url = url
        }
        configuration.database.connectTimeoutSeconds = reader.integer("database.connect_timeout_seconds")
        configuration.database.statementTimeoutMilliseconds = reader.integer("database.statement_timeout_ms")

        // Worker
        configuration.worker.prefetch = reader.integer("worker.prefetch")
        configuration.worker.batchSize = reader.integer("worker.batch_size")
        reader.check { [worker = configuration.worker] () throws(ConfigurationError) in
            try ConfigurationRules.checkBatch(size: worker.batchSize, prefetch: worker.prefetch)
        }
        configuration.worker.batchMaxWaitMilliseconds = reader.integer("worker.batch_max_wait_ms")
        configuration.worker.databaseThreads = reader.integer("worker.database_threads")
        configuration.worker.drainSeconds = reader.integer("worker.drain_seconds")
        configuration.worker.maxMessageBytes = reader.integer("worker.max_message_bytes")
        configuration.worker.startupWaitSeconds = reader.integer("worker.startup_wait_seconds")
        configuration.worker.logLevel =
            Logger.Level(rawValue: reader.choice("worker.log_level")) ?? configuration.worker.logLevel

        // Metrics
        let listen = reader.listen("metrics.listen")
        configuration.metrics.host = listen?.host
        configuration.metrics.port = listen?.port ?? configuration.metrics.port

        // Security
        configuration.security.allowedPublishers = reader.list("security.allowed_publishers")
        configuration.security.dataKeysFile = reader.string("security.data_keys_file")

        // Topology
        configuration.topology.inboundExchange = reader.name("topology.inbound_exchange")
        configuration.topology.registrationsQueue = reader.name("topology.registrations_queue")
        configuration.topology.registrationsRoutingKey = reader.name("topology.registrations_routing_key")
        configuration.topology.paymentsQueue = reader.name("topology.payments_queue")
        configuration.topology.paymentsRoutingKey = reader.name("topology.payments_routing_key")
        configuration.topology.eventsExchange = reader.name("topology.events_exchange")
        configuration.topology.deadExchange = reader.name("topology.dead_exchange")
        configuration.topology.deadQueue = reader.name("topology.dead_queue")
        configuration.topology.retryQueuePrefix = reader.name("topology.retry_queue_prefix")
        if let (names, delays) = reader.delays("topology.retry_delays") {
            configuration.topology.retryDelays = delays
            configuration.topology.retryDelayNames = names
        }
        configuration.topology.deliveryLimit = reader.integer("topology.delivery_limit")
        let names = [
            configuration.topology.registrationsQueue, configuration.topology.paymentsQueue,
            configuration.topology.deadQueue,
        ]
        if Set(names).count != names.count {
            reader.fail("topology.dead_queue", names.joined(separator: ","), expected: "three different queue names")
        }

        // Scheduler
        configuration.scheduler.intervalSeconds = reader.integer("scheduler.interval_seconds")
        configuration.scheduler.retentionMonths = reader.integer("privacy.retention_months")

        // Rules
        configuration.rules = readRules(&reader)

        configuration.effective = ConfigurationKeys.all.map { key in
            let entry = raw.entries[key.name]
            let shown = reader.text(key.name).map { Redaction.redact(key: key.name, value: $0) } ?? "(not set)"
            return (key.name, shown, entry?.origin)
        }

        if !reader.errors.isEmpty { throw ConfigurationErrors(errors: reader.errors) }
        return configuration
    }

    private static func readRules(_ reader: inout ConfigurationReader) -> RulesSettings {
        var rules = RulesSettings()
        rules.rosterEnforce = reader.boolean("roster.enforce")
        rules.nikConsistency =
            RulesSettings.NIKConsistency(rawValue: reader.choice("rules.nik_consistency")) ?? rules.nikConsistency
        rules.allowPPPK = reader.boolean("rules.allow_pppk")
        rules.graceMonths = reader.integer("rules.grace_months")
        rules.dueDayOfMonth = reader.integer("rules.due_day_of_month")
        rules.dueReminderDays = reader.integer("rules.due_reminder_days")
        rules.firstPaymentDays = reader.integer("rules.first_payment_days")
        rules.ageMaxMonths = reader.integer("rules.age_max_months")
        rules.ageMinYears = reader.integer("rules.age_min_years")
        reader.check { [rules] () throws(ConfigurationError) in
            try ConfigurationRules.checkAges(minimumYears: rules.ageMinYears, maximumMonths: rules.ageMaxMonths)
        }
        rules.maxClockSkewSeconds = reader.integer("rules.max_clock_skew_seconds")
        let months = reader.integers("rules.payment_months")
        if !months.isEmpty { rules.paymentMonths = Array(Set(months)).sorted() }
        let rates = reader.rates("rules.rates")
        if !rates.isEmpty { rules.rates = rates }
        rules.baselineInformalWorkers = reader.integer("report.baseline_informal_workers")
        rules.baselineCovered = reader.integer("report.baseline_covered")
        reader.check { [rules] () throws(ConfigurationError) in
            try ConfigurationRules.checkBaseline(
                covered: rules.baselineCovered, informalWorkers: rules.baselineInformalWorkers)
        }
        let directory = reader.string("catalogues.directory")
        rules.cataloguesDirectory = directory.isEmpty ? nil : directory
        return rules
    }

    /// `YYYY-MM-DD` naming a day that exists (the table's date check, for command arguments).
    static func isCalendarDate(_ text: String) -> Bool {
        CalendarDateText.isValid(text)
    }
}
