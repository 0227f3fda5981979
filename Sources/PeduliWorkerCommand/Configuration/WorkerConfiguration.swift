import Foundation
import Logging

/// Connection to RabbitMQ.
struct AMQPSettings: Sendable, Equatable {
    /// Broker URLs in the order they are tried (`amqp.url`, comma-separated for a cluster). Secret:
    /// contains the password. Empty when not configured; `run` requires it.
    var urls: [String] = []
    /// `amqp.heartbeat_seconds`, default 30; 0 turns heartbeats off.
    var heartbeatSeconds: Int = 30
    /// `amqp.connect_timeout_seconds`, default 10.
    var connectTimeoutSeconds: Int = 10
    /// `amqp.tls.*`: used for `amqps://` URLs only.
    var tls = TLSSettings()

    struct TLSSettings: Sendable, Equatable {
        /// Empty: the system's trust store.
        var caFile: String = ""
        var certFile: String = ""
        var keyFile: String = ""
        var verifyPeer: Bool = true
        var verifyHostname: Bool = true
    }
}

/// Connection to PostgreSQL.
struct DatabaseSettings: Sendable, Equatable {
    /// `database.url`: a `postgresql://` URL or libpq connection string. Secret.
    var url: String?
    /// `database.connect_timeout_seconds`, default 10.
    var connectTimeoutSeconds: Int = 10
    /// `database.statement_timeout_ms`, default 30000; 0 means none.
    var statementTimeoutMilliseconds: Int = 30_000
}

/// Consumer and batching knobs.
struct WorkerTuning: Sendable, Equatable {
    /// `worker.prefetch`, default 400 (basic.qos prefetch count).
    var prefetch: Int = 400
    /// `worker.batch_size`, default 200; never above `prefetch` (a batch could not fill).
    var batchSize: Int = 200
    /// `worker.database_threads`, default 2.
    var databaseThreads: Int = 2
    /// `worker.batch_max_wait_ms`, default 15.
    var batchMaxWaitMilliseconds: Int = 15
    /// `worker.drain_seconds`, default 20: graceful stop bound; systemd's TimeoutStopSec must exceed it.
    var drainSeconds: Int = 20
    /// `worker.max_message_bytes`, default 65536 (CONTRACT.md).
    var maxMessageBytes: Int = 65_536
    /// `worker.startup_wait_seconds`, default 60: after that, exit 69.
    var startupWaitSeconds: Int = 60
    /// `worker.log_level`, default info.
    var logLevel: Logger.Level = .info
}

/// The Prometheus endpoint.
struct MetricsSettings: Sendable, Equatable {
    /// `metrics.listen`, default `127.0.0.1:9464`; nil when set to empty (endpoint off).
    var host: String? = "127.0.0.1"
    var port: UInt16 = 9464
    var isEnabled: Bool { host != nil }
}

/// Who may publish commands.
struct SecuritySettings: Sendable, Equatable {
    /// `security.allowed_publishers`, default empty: no check.
    var allowedPublishers: [String] = []
}

/// Broker object names (CONTRACT.md, Broker topology).
struct TopologyNames: Sendable, Equatable {
    var inboundExchange = "peduli.inbound"
    var registrationsQueue = "peduli.registrations"
    var registrationsRoutingKey = "registration.submit"
    var paymentsQueue = "peduli.payments"
    var paymentsRoutingKey = "payment.submit"
    var eventsExchange = "peduli.events"
    var deadExchange = "peduli.dead"
    var deadQueue = "peduli.dead-letters"
    var retryQueuePrefix = "peduli.payments.retry"
    /// `topology.retry_delays`, default 10 s, 1 min, 10 min, 1 h.
    var retryDelays: [Duration] = [.seconds(10), .seconds(60), .seconds(600), .seconds(3600)]
    /// The spelling used in the configuration, for queue names (`peduli.retry.10s`).
    var retryDelayNames: [String] = ["10s", "1m", "10m", "1h"]
    /// `topology.delivery_limit`, default 5.
    var deliveryLimit = 5
}

/// The reminder scheduler.
struct SchedulerSettings: Sendable, Equatable {
    /// `scheduler.interval_seconds`, default 60.
    var intervalSeconds: Int = 60
}

/// The programme's rules, typed but not interpreted: PeduliDomain owns their meaning.
/// `ProgrammeConfigurationMapping` turns them into the domain's configuration at wiring time.
struct RulesSettings: Sendable, Equatable {
    enum NIKConsistency: String, Sendable, Equatable { case reject, warn }

    struct Rate: Sendable, Equatable {
        /// `YYYY-MM-DD` on the Jakarta calendar.
        var effectiveFrom: String
        /// Whole rupiah a month.
        var monthlyAmount: Int
    }

    var rosterEnforce = true
    var nikConsistency = NIKConsistency.reject
    var allowPPPK = true
    var graceMonths = 3
    var dueDayOfMonth = 15
    var dueReminderDays = 7
    var firstPaymentDays = 14
    var ageMaxMonths = 779
    var ageMinYears = 18
    var maxClockSkewSeconds = 300
    var paymentMonths = [1, 2, 3, 6, 12]
    /// Sorted by date, at least one.
    var rates = [Rate(effectiveFrom: "2019-12-02", monthlyAmount: 16_800)]
    var baselineInformalWorkers = 215_243
    var baselineCovered = 40_196
    /// `catalogues.directory`; nil: the catalogues built into the executable.
    var cataloguesDirectory: String?
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

    static func from(_ raw: RawConfiguration, requiring requirements: Requirements) throws(ConfigurationErrors)
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
        for url in amqpURLs where !(url.hasPrefix("amqp://") || url.hasPrefix("amqps://")) {
            reader.fail("amqp.url", url, expected: "an amqp:// or amqps:// URL")
        }
        configuration.amqp.urls = amqpURLs
        configuration.amqp.heartbeatSeconds = reader.integer("amqp.heartbeat_seconds", in: 0...3600)
        configuration.amqp.connectTimeoutSeconds = reader.integer("amqp.connect_timeout_seconds", in: 1...300)
        configuration.amqp.tls.caFile = reader.string("amqp.tls.ca_file")
        configuration.amqp.tls.certFile = reader.string("amqp.tls.cert_file")
        configuration.amqp.tls.keyFile = reader.string("amqp.tls.key_file")
        configuration.amqp.tls.verifyPeer = reader.boolean("amqp.tls.verify_peer")
        configuration.amqp.tls.verifyHostname = reader.boolean("amqp.tls.verify_hostname")
        if configuration.amqp.tls.certFile.isEmpty != configuration.amqp.tls.keyFile.isEmpty {
            reader.fail("amqp.tls.key_file", configuration.amqp.tls.keyFile,
                        expected: "both amqp.tls.cert_file and amqp.tls.key_file, or neither")
        }

        // Database
        if requirements.contains(.database) {
            reader.require("database.url", hint: "set PEDULI_DATABASE_URL, PEDULI_DATABASE_URL_FILE or the database_url credential")
        }
        if let url = reader.text("database.url")?.trimmingCharacters(in: .whitespaces), !url.isEmpty {
            configuration.database.url = url
        }
        configuration.database.connectTimeoutSeconds = reader.integer("database.connect_timeout_seconds", in: 1...300)
        configuration.database.statementTimeoutMilliseconds = reader.integer(
            "database.statement_timeout_ms", in: 0...3_600_000)

        // Worker
        configuration.worker.prefetch = reader.integer("worker.prefetch", in: 1...65_535)
        configuration.worker.batchSize = reader.integer("worker.batch_size", in: 1...10_000)
        if configuration.worker.batchSize > configuration.worker.prefetch {
            reader.fail("worker.batch_size", String(configuration.worker.batchSize),
                        expected: "at most worker.prefetch (\(configuration.worker.prefetch)), or a batch can never fill")
        }
        configuration.worker.batchMaxWaitMilliseconds = reader.integer("worker.batch_max_wait_ms", in: 0...60_000)
        configuration.worker.databaseThreads = reader.integer("worker.database_threads", in: 1...16)
        configuration.worker.drainSeconds = reader.integer("worker.drain_seconds", in: 1...3600)
        configuration.worker.maxMessageBytes = reader.integer("worker.max_message_bytes", in: 1...16_777_216)
        configuration.worker.startupWaitSeconds = reader.integer("worker.startup_wait_seconds", in: 0...86_400)
        let levels = Logger.Level.allCases.map(\.rawValue)
        configuration.worker.logLevel = Logger.Level(rawValue: reader.choice("worker.log_level", levels)) ?? .info

        // Metrics
        let listen = reader.string("metrics.listen")
        if listen.isEmpty {
            configuration.metrics.host = nil
        } else if let (host, port) = ConfigurationReader.parseListen(listen) {
            configuration.metrics.host = host
            configuration.metrics.port = port
        } else {
            reader.fail("metrics.listen", listen, expected: "host:port such as 127.0.0.1:9464 or [::1]:9464, or empty to turn it off")
        }

        // Security
        configuration.security.allowedPublishers = reader.list("security.allowed_publishers")

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
        let delayNames = reader.list("topology.retry_delays")
        var delays: [Duration] = []
        for name in delayNames {
            if let delay = ConfigurationReader.parseDelay(name) {
                delays.append(delay)
            } else {
                reader.fail("topology.retry_delays", name, expected: "a delay such as 500ms, 10s, 1m or 1h (at most 24h)")
            }
        }
        if delays.count == delayNames.count {
            if zip(delays, delays.dropFirst()).contains(where: { $0 >= $1 }) {
                reader.fail("topology.retry_delays", delayNames.joined(separator: ","), expected: "increasing delays")
            }
            configuration.topology.retryDelays = delays
            configuration.topology.retryDelayNames = delayNames
        }
        configuration.topology.deliveryLimit = reader.integer("topology.delivery_limit", in: 1...1000)
        let names = [
            configuration.topology.registrationsQueue, configuration.topology.paymentsQueue,
            configuration.topology.deadQueue,
        ]
        if Set(names).count != names.count {
            reader.fail("topology.dead_queue", names.joined(separator: ","), expected: "three different queue names")
        }

        // Scheduler
        configuration.scheduler.intervalSeconds = reader.integer("scheduler.interval_seconds", in: 1...86_400)

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
            RulesSettings.NIKConsistency(rawValue: reader.choice("rules.nik_consistency", ["reject", "warn"])) ?? .reject
        rules.allowPPPK = reader.boolean("rules.allow_pppk")
        rules.graceMonths = reader.integer("rules.grace_months", in: 0...24)
        rules.dueDayOfMonth = reader.integer("rules.due_day_of_month", in: 1...28)
        rules.dueReminderDays = reader.integer("rules.due_reminder_days", in: 0...31)
        rules.firstPaymentDays = reader.integer("rules.first_payment_days", in: 0...365)
        rules.ageMaxMonths = reader.integer("rules.age_max_months", in: 1...1800)
        rules.ageMinYears = reader.integer("rules.age_min_years", in: 0...100)
        if rules.ageMinYears * 12 > rules.ageMaxMonths {
            reader.fail("rules.age_min_years", String(rules.ageMinYears),
                        expected: "at most rules.age_max_months (\(rules.ageMaxMonths)) / 12")
        }
        rules.maxClockSkewSeconds = reader.integer("rules.max_clock_skew_seconds", in: 0...86_400)
        var months: [Int] = []
        for text in reader.list("rules.payment_months") {
            if let value = Int(text), (1...120).contains(value) {
                months.append(value)
            } else {
                reader.fail("rules.payment_months", text, expected: "whole numbers of months from 1 to 120")
            }
        }
        if months.isEmpty {
            reader.fail("rules.payment_months", "", expected: "at least one number of months")
        } else {
            rules.paymentMonths = Array(Set(months)).sorted()
        }
        var rates: [RulesSettings.Rate] = []
        for text in reader.list("rules.rates") {
            if let rate = parseRate(text) {
                rates.append(rate)
            } else {
                reader.fail("rules.rates", text, expected: "EFFECTIVE-DATE:AMOUNT such as 2019-12-02:16800 (a real date, a positive whole rupiah amount)")
            }
        }
        rates.sort { $0.effectiveFrom < $1.effectiveFrom }
        if Set(rates.map(\.effectiveFrom)).count != rates.count {
            reader.fail("rules.rates", reader.list("rules.rates").joined(separator: ","), expected: "one rate per effective date")
        }
        if reader.list("rules.rates").isEmpty {
            reader.fail("rules.rates", "", expected: "at least one rate")
        } else if !rates.isEmpty {
            rules.rates = rates
        }
        rules.baselineInformalWorkers = reader.integer("report.baseline_informal_workers", in: 1...100_000_000)
        rules.baselineCovered = reader.integer("report.baseline_covered", in: 0...100_000_000)
        if rules.baselineCovered > rules.baselineInformalWorkers {
            reader.fail("report.baseline_covered", String(rules.baselineCovered),
                        expected: "at most report.baseline_informal_workers (\(rules.baselineInformalWorkers))")
        }
        let directory = reader.string("catalogues.directory")
        rules.cataloguesDirectory = directory.isEmpty ? nil : directory
        return rules
    }

    /// `2019-12-02:16800`: a real Gregorian date and a positive whole amount.
    static func parseRate(_ text: String) -> RulesSettings.Rate? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let amount = Int(parts[1]), amount > 0, isCalendarDate(String(parts[0])) else {
            return nil
        }
        return RulesSettings.Rate(effectiveFrom: String(parts[0]), monthlyAmount: amount)
    }

    /// `YYYY-MM-DD` naming a day that exists.
    static func isCalendarDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }
}

