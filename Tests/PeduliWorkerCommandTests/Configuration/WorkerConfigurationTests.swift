import Foundation
import Logging
import PeduliSettings
import Testing

@testable import PeduliWorkerCommand

@Suite("Configuration validation and errors")
struct WorkerConfigurationTests {
    static let urls = [
        "PEDULI_AMQP_URL": "amqp://worker:s3cr3t@broker:5672/%2F",
        "PEDULI_DATABASE_URL": "postgresql://worker:pw0rd@db:5432/peduli",
    ]

    func load(
        yaml: String? = nil, environment: [String: String] = [:], requiring: WorkerConfiguration.Requirements = .all
    )
        throws -> WorkerConfiguration
    {
        let directory = try TemporaryDirectory()
        let path = try yaml.map { try directory.write("config.yaml", $0) }
        let loader = ConfigurationLoader(environment: Self.urls.merging(environment) { _, new in new })
        return try WorkerConfiguration.load(configPath: path, requiring: requiring, loader: loader)
    }

    @Test("with only the two URLs the defaults of docs/rules.md, docs/contract.md and docs/operations.md apply")
    func defaults() throws {
        let configuration = try load()
        #expect(configuration.amqp.urls == ["amqp://worker:s3cr3t@broker:5672/%2F"])
        #expect(configuration.database.url == "postgresql://worker:pw0rd@db:5432/peduli")
        #expect(configuration.worker == WorkerTuning())
        #expect(configuration.worker.drainSeconds == 20)
        #expect(configuration.worker.maxMessageBytes == 65_536)
        #expect(configuration.metrics.host == "127.0.0.1" && configuration.metrics.port == 9464)
        #expect(configuration.security.allowedPublishers.isEmpty)
        #expect(configuration.topology == TopologyNames())
        #expect(configuration.topology.retryDelays == [.seconds(10), .seconds(60), .seconds(600), .seconds(3600)])
        #expect(configuration.topology.deliveryLimit == 5)
        #expect(configuration.rules == RulesSettings())
        #expect(configuration.rules.rates == [RulesSettings.Rate(effectiveFrom: "2019-12-02", monthlyAmount: 16_800)])
        #expect(configuration.rules.ageMaxMonths == 779 && configuration.rules.graceMonths == 3)
        #expect(configuration.rules.cataloguesDirectory == nil)
    }

    @Test("a full file is typed into the settings")
    func typedFromFile() throws {
        let configuration = try load(
            yaml: """
                worker: {prefetch: 200, batch_size: 100, batch_max_wait_ms: 20, drain_seconds: 15, log_level: debug}
                metrics: {listen: "[::1]:9100"}
                security: {allowed_publishers: [portal]}
                roster: {enforce: false}
                rules:
                  nik_consistency: warn
                  allow_pppk: no
                  rates: ["2019-12-02:16800", "2027-01-01:20000"]
                  payment_months: [12, 1, 3]
                topology: {retry_delays: [5s, 30s], delivery_limit: 3, dead_queue: parked}
                catalogues: {directory: /srv/catalogues}
                """)
        #expect(configuration.worker.prefetch == 200 && configuration.worker.batchSize == 100)
        #expect(configuration.worker.logLevel == .debug)
        #expect(configuration.metrics.host == "::1" && configuration.metrics.port == 9100)
        #expect(configuration.security.allowedPublishers == ["portal"])
        #expect(!configuration.rules.rosterEnforce && !configuration.rules.allowPPPK)
        #expect(configuration.rules.nikConsistency == .warn)
        #expect(configuration.rules.rates.map(\.monthlyAmount) == [16_800, 20_000])
        #expect(configuration.rules.paymentMonths == [1, 3, 12])
        #expect(configuration.topology.retryDelays == [.seconds(5), .seconds(30)])
        #expect(configuration.topology.retryDelayNames == ["5s", "30s"])
        #expect(configuration.topology.deadQueue == "parked")
        #expect(configuration.rules.cataloguesDirectory == "/srv/catalogues")
        var builtInCatalogues = configuration
        builtInCatalogues.rules.cataloguesDirectory = nil
        let programme = try builtInCatalogues.programmeConfiguration()
        #expect(programme.contributionRates.rates.map(\.monthlyAmount) == [16_800, 20_000])
        #expect(programme.contributionRates.rates.map(\.effectiveFrom.description) == ["2019-12-02", "2027-01-01"])
        #expect(programme.nikConsistency == .warn && !programme.allowPPPK && !programme.enforceSponsorRoster)
        #expect(programme.allowedPaymentMonths == [1, 3, 12])
    }

    @Test("an empty metrics.listen turns the endpoint off")
    func metricsOff() throws {
        #expect(try !load(environment: ["PEDULI_METRICS_LISTEN": ""]).metrics.isEnabled)
    }

    /// One bad input and the exact message an operator sees.
    struct BadInput: Sendable, CustomTestStringConvertible {
        let yaml: String?
        let environment: [String: String]
        let code: String
        let message: String
        var testDescription: String { message }
    }

    @Test(
        "errors name the key, the value, the source and what is expected",
        arguments: [
            BadInput(
                yaml: nil, environment: ["PEDULI_WORKER_PREFETCH": "abc"], code: "invalid_value",
                message:
                    "worker.prefetch = \"abc\" (from environment PEDULI_WORKER_PREFETCH): expected an integer from 1 to 65535"
            ),
            BadInput(
                yaml: nil, environment: ["PEDULI_WORKER_PREFETCH": "0"], code: "invalid_value",
                message:
                    "worker.prefetch = \"0\" (from environment PEDULI_WORKER_PREFETCH): expected an integer from 1 to 65535"
            ),
            BadInput(
                yaml: "worker:\n  prefetc: 5\n", environment: [:], code: "unknown_key",
                message: "unknown key 'worker.prefetc' (from CONFIG:2): did you mean 'worker.prefetch'?"),
            BadInput(
                yaml: "amqp:\n  prefetch: 5\n", environment: [:], code: "unknown_key",
                message: "unknown key 'amqp.prefetch' (from CONFIG:2): did you mean 'worker.prefetch'?"),
            BadInput(
                yaml: "colour: blue\n", environment: [:], code: "unknown_key",
                message:
                    "unknown key 'colour' (from CONFIG:1): not a configuration key (see config/peduli-worker.example.yaml)"
            ),
            BadInput(
                yaml: "rules:\n  nik_consistency: maybe\n", environment: [:], code: "invalid_value",
                message: "rules.nik_consistency = \"maybe\" (from CONFIG:2): expected one of reject, warn"),
            BadInput(
                yaml: nil, environment: ["PEDULI_ROSTER_ENFORCE": "perhaps"], code: "invalid_value",
                message: "roster.enforce = \"perhaps\" (from environment PEDULI_ROSTER_ENFORCE): expected true or false"
            ),
            BadInput(
                yaml: nil, environment: ["PEDULI_TOPOLOGY_RETRY_DELAYS": "10s,5x"], code: "invalid_value",
                message:
                    "topology.retry_delays = \"5x\" (from environment PEDULI_TOPOLOGY_RETRY_DELAYS): expected a delay such as 500ms, 10s, 1m or 1h (at most 24h)"
            ),
            BadInput(
                yaml: nil, environment: ["PEDULI_TOPOLOGY_RETRY_DELAYS": "1m,10s"], code: "invalid_value",
                message:
                    "topology.retry_delays = \"1m,10s\" (from environment PEDULI_TOPOLOGY_RETRY_DELAYS): expected increasing delays"
            ),
            BadInput(
                yaml: nil, environment: ["PEDULI_RULES_RATES": "2019-02-30:16800"], code: "invalid_value",
                message:
                    "rules.rates = \"2019-02-30:16800\" (from environment PEDULI_RULES_RATES): expected EFFECTIVE-DATE:AMOUNT such as 2019-12-02:16800 (a real date, a positive whole rupiah amount)"
            ),
            BadInput(
                yaml: nil, environment: ["PEDULI_METRICS_LISTEN": "9464"], code: "invalid_value",
                message:
                    "metrics.listen = \"9464\" (from environment PEDULI_METRICS_LISTEN): expected host:port such as 127.0.0.1:9464 or [::1]:9464, or empty to turn it off"
            ),
            BadInput(
                yaml: nil, environment: ["PEDULI_WORKER_BATCH_SIZE": "500"], code: "invalid_value",
                message:
                    "worker.batch_size = \"500\" (from environment PEDULI_WORKER_BATCH_SIZE): expected at most worker.prefetch (400), or a batch can never fill"
            ),
            BadInput(
                yaml: nil, environment: ["PEDULI_AMQP_URL": "http://worker:s3cr3t@broker/"], code: "invalid_value",
                message:
                    "amqp.url = \"http://worker:***@broker/\" (from environment PEDULI_AMQP_URL): expected an amqp:// or amqps:// URL"
            ),
            BadInput(
                yaml: "worker:\n  prefetch: [1, 2]\n", environment: [:], code: "wrong_shape",
                message: "worker.prefetch (from CONFIG:2): a single value, not a list or mapping"),
            BadInput(
                yaml: "worker: [\n", environment: [:], code: "invalid_yaml",
                message: "configuration file CONFIG: is not valid YAML"),
            BadInput(
                yaml: "- a\n- b\n", environment: [:], code: "wrong_shape",
                message: "configuration file (from CONFIG:1): must be a mapping of keys to values"),
            BadInput(
                yaml: nil, environment: ["PEDULI_AMQP_URL": ""], code: "missing_value",
                message: "amqp.url is not set: set PEDULI_AMQP_URL, PEDULI_AMQP_URL_FILE or the amqp_url credential"),
        ])
    func errors(_ input: BadInput) throws {
        let directory = try TemporaryDirectory()
        let path = try input.yaml.map { try directory.write("config.yaml", $0) }
        let loader = ConfigurationLoader(environment: Self.urls.merging(input.environment) { _, new in new })
        do {
            _ = try WorkerConfiguration.load(configPath: path, requiring: .all, loader: loader)
            Issue.record("expected \(input.code)")
        } catch {
            #expect(error.errors.count == 1)
            let first = try #require(error.errors.first)
            #expect(first.code == input.code)
            let shown = first.description.replacingOccurrences(of: path ?? "\u{0}", with: "CONFIG")
            #expect(shown.contains(input.message), "\(shown)")
            #expect(!error.description.contains("s3cr3t"))
        }
    }

    @Test("every problem is reported in one go")
    func allErrorsAtOnce() throws {
        do {
            _ = try load(
                yaml: "worker:\n  prefetch: -1\n  drain_seconds: forever\nrules:\n  grace_months: 99\n",
                environment: ["PEDULI_DATABASE_URL": ""])
            Issue.record("expected errors")
        } catch {
            let error = try #require(error as? ConfigurationErrors)
            #expect(
                Set(error.errors.map { $0.key ?? "" })
                    == ["worker.prefetch", "worker.drain_seconds", "rules.grace_months", "database.url"])
            #expect(error.description.hasPrefix("configuration errors (4):\n  - "))
        }
    }

    @Test("commands that need only the database do not require the AMQP URL")
    func requirements() throws {
        let loader = ConfigurationLoader(environment: ["PEDULI_DATABASE_URL": "postgresql:///peduli"])
        let configuration = try WorkerConfiguration.load(configPath: nil, requiring: .database, loader: loader)
        #expect(configuration.amqp.urls.isEmpty)
        #expect(throws: ConfigurationErrors.self) {
            try WorkerConfiguration.load(configPath: nil, requiring: .all, loader: loader)
        }
    }

    @Test("a cluster is a comma-separated list of URLs")
    func cluster() throws {
        let configuration = try load(environment: ["PEDULI_AMQP_URL": "amqp://u:p@a:5672/,amqps://u:p@b:5671/"])
        #expect(configuration.amqp.urls == ["amqp://u:p@a:5672/", "amqps://u:p@b:5671/"])
    }

    @Test(
        "calendar dates",
        arguments: [
            ("2024-02-29", true), ("2023-02-29", false), ("1900-02-29", false), ("2000-02-29", true),
            ("2026-04-31", false), ("2026-12-31", true), ("2026-13-01", false), ("2026-1-01", false),
            ("2026-01-00", false), ("20260101", false), ("２０２６-01-01", false),
        ])
    func calendarDates(text: String, valid: Bool) {
        #expect(WorkerConfiguration.isCalendarDate(text) == valid)
    }
}
