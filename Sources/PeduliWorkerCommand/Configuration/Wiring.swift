import AMQPClient
import Foundation
import PeduliDomain
import PeduliPrivacy
import PeduliSettings
import PeduliWorker
import PostgresClient

/// The bridge from the validated configuration to the values each layer takes. Kept in one place so a new
/// key is wired once.
extension WorkerConfiguration {
    /// Every check `run` makes on the configuration before it touches the network, beyond the reader's: the
    /// URLs parsed as the clients parse them (RabbitMQ's query parameters, libpq's own `PQconninfoParse` for
    /// the database URL, so an unknown parameter is refused as libpq would), the programme's rules and
    /// catalogues. Each problem names its key. `check-config` lists them; `run` stops on the first (78).
    func clientProblems(requiring requirements: Requirements = .all) -> [String] {
        var problems: [String] = []
        if requirements.contains(.amqp) {
            do { _ = try amqpConfiguration() } catch { problems.append(Self.keyed(error)) }
        }
        if requirements.contains(.database) {
            do { _ = try databaseConfiguration() } catch { problems.append(Self.keyed(error)) }
        }
        do { _ = try programmeConfiguration() } catch { problems.append(Self.keyed(error)) }
        return problems
    }

    /// A client's refusal of a configuration value, said with the key it came from.
    static func keyed(_ error: any Error) -> String {
        switch error {
        case let error as AMQPError where error.code == .invalidURL || error.code == .invalidArgument:
            return "amqp.url: \(error.detail ?? error.code.rawValue)"
        case let error as PostgresError where error.code == .invalidConfiguration:
            return "database.url: \(error.message)"
        case let error as ConfigurationErrors:
            return error.errors.map(\.description).joined(separator: "; ")
        default:
            return "\(error)"
        }
    }

    func amqpConfiguration(connectionName: String = "peduli-worker") throws -> AMQPConfiguration {
        let tls = AMQPTLSOptions(
            caFile: amqp.tls.caFile.isEmpty ? nil : amqp.tls.caFile,
            certificateFile: amqp.tls.certFile.isEmpty ? nil : amqp.tls.certFile,
            keyFile: amqp.tls.keyFile.isEmpty ? nil : amqp.tls.keyFile,
            verifyPeer: amqp.tls.verifyPeer, verifyHostname: amqp.tls.verifyHostname)
        return try AMQPConfiguration(
            url: amqp.urls.joined(separator: ","), heartbeatSeconds: amqp.heartbeatSeconds,
            connectionName: connectionName, version: BuildInfo.description,
            connectTimeout: .seconds(amqp.connectTimeoutSeconds), tls: tls)
    }

    func databaseConfiguration() throws -> PostgresConfiguration {
        var configuration = try PostgresConfiguration(
            database.url ?? "", applicationName: "peduli-worker", connectTimeoutSeconds: database.connectTimeoutSeconds)
        configuration.statementTimeoutMilliseconds = database.statementTimeoutMilliseconds
        return configuration
    }

    /// The data keys from `security.data_keys_file`. A missing setting, an unreadable file or a bad line is a
    /// configuration error naming the key and the file, never a key's bytes.
    func dataKeys() throws -> DataKeys {
        let path = security.dataKeysFile
        guard !path.isEmpty else {
            throw ConfigurationError(
                code: "missing", key: "security.data_keys_file", value: nil,
                expected: "a key file (PEDULI_SECURITY_DATA_KEYS_FILE or the data_keys credential); "
                    + "`peduli-worker keys generate` prints a first line")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigurationError(
                code: "unreadable_file", key: "security.data_keys_file", value: path, expected: "a readable key file")
        }
        do {
            return try DataKeys.parse(text, file: path)
        } catch {
            throw ConfigurationError(
                code: "bad_data_keys", key: "security.data_keys_file", value: path, expected: error.detail)
        }
    }

    /// The pipeline's settings with the data keys, for the commands that read or write personal data.
    func pipelineConfigurationWithKeys() throws -> PipelineConfiguration {
        var p = pipelineConfiguration()
        p.dataKeys = try dataKeys()
        return p
    }

    func pipelineConfiguration() -> PipelineConfiguration {
        var p = PipelineConfiguration()
        p.topology.inboundExchange = topology.inboundExchange
        p.topology.registrationsQueue = topology.registrationsQueue
        p.topology.registrationsRoutingKey = topology.registrationsRoutingKey
        p.topology.paymentsQueue = topology.paymentsQueue
        p.topology.paymentsRoutingKey = topology.paymentsRoutingKey
        p.topology.eventsExchange = topology.eventsExchange
        p.topology.deadExchange = topology.deadExchange
        p.topology.deadLettersQueue = topology.deadQueue
        p.topology.retryQueuePrefix = topology.retryQueuePrefix
        p.topology.retryDelays = topology.retryDelays
        p.topology.deliveryLimit = topology.deliveryLimit
        p.prefetch = worker.prefetch
        p.batchSize = worker.batchSize
        p.batchMaxWait = .milliseconds(worker.batchMaxWaitMilliseconds)
        p.databaseThreads = worker.databaseThreads
        p.maxBatchesInFlight = worker.databaseThreads + 1
        p.drain = .seconds(worker.drainSeconds)
        p.maxMessageBytes = worker.maxMessageBytes
        p.allowedPublishers = Set(security.allowedPublishers)
        p.schedulerInterval = .seconds(scheduler.intervalSeconds)
        p.retentionMonths = scheduler.retentionMonths
        return p
    }

    /// The programme's rules as the domain takes them; catalogues from `catalogues.directory` when set,
    /// else the ones built into the executable.
    func programmeConfiguration() throws -> ProgrammeConfiguration {
        var p = ProgrammeConfiguration()
        p.enforceSponsorRoster = rules.rosterEnforce
        p.nikConsistency = rules.nikConsistency == .warn ? .warn : .reject
        p.allowPPPK = rules.allowPPPK
        p.graceMonths = rules.graceMonths
        p.dueDayOfMonth = rules.dueDayOfMonth
        p.dueReminderDays = rules.dueReminderDays
        p.firstPaymentDays = rules.firstPaymentDays
        p.maximumAgeMonths = rules.ageMaxMonths
        p.minimumAgeYears = rules.ageMinYears
        p.clockSkewSeconds = TimeInterval(rules.maxClockSkewSeconds)
        p.allowedPaymentMonths = Set(rules.paymentMonths)
        p.contributionRates = try ContributionRates(
            rules.rates.map { rate in
                guard let day = JakartaDate.parse(rate.effectiveFrom) else {
                    throw ConfigurationKeys["rules.rates"].invalid(rate.description, expected: "a real date")
                }
                return ContributionRate(effectiveFrom: day, monthlyAmount: Int64(rate.monthlyAmount))
            })
        if let directory = rules.cataloguesDirectory {
            p.catalogues = try ProgrammeConfiguration.loadCatalogues(directory: URL(fileURLWithPath: directory))
        }
        try p.validate()
        return p
    }
}
