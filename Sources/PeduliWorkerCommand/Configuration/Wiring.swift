import AMQPClient
import Foundation
import PeduliDomain
import PeduliSettings
import PeduliWorker
import PostgresClient

/// The bridge from the validated configuration to the values each layer takes. Kept in one place so a new
/// key is wired once.
extension WorkerConfiguration {
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
