import AMQPClient
import Foundation
import Logging
import PeduliDomain
import PeduliPrivacy
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import ServiceLifecycle
import Testing

/// An isolated world for one pipeline test: its own database (created and migrated), its own broker objects
/// (every name prefixed), a portal connection that publishes commands as user `portal`, and captures of
/// everything the worker emits on the events exchange and in the dead-letter queue.
final class PipelineHarness: @unchecked Sendable {
    // @unchecked Sendable: the mutable capture buffers are guarded by `lock`; connections are used only on
    // the threads that own them (see `publisher` and `captureThread`).
    let prefix: String
    let databaseName: String
    let database: PostgresConfiguration
    /// The database's URL (with its password), for child processes.
    let databaseURL: String
    let amqp: AMQPConfiguration
    let portal: AMQPConfiguration
    var pipeline: PipelineConfiguration
    var programme: ProgrammeConfiguration
    let samples = SampleWorkload()
    let logger: Logger

    private let lock = NSLock()
    private var events: [Captured] = []
    private var deadLetters: [Captured] = []
    private var captureStop = false
    private var captureThread: Thread?

    struct Captured: Sendable {
        var routingKey: String
        var properties: AMQPProperties
        var body: [UInt8]
        var json: JSONValue? { try? JSONParser.parse(body) }
        var type: String { properties.type ?? routingKey }
        func string(_ key: String) -> String? {
            if case .string(let s)? = json?.objectValue?[key] { return s }
            return nil
        }
        func header(_ key: String) -> String? { properties.headers?[key]?.stringValue }
    }

    /// - Parameter migrateThrough: the schema version the test database starts at (an earlier release's);
    ///   nil: the current one.
    init(
        _ name: String = #function, migrateThrough: Int? = nil,
        configure: (inout PipelineConfiguration, inout ProgrammeConfiguration) -> Void = { _, _ in }
    )
        throws
    {
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(10)
        prefix = "t\(id)"
        databaseName = "peduli_\(prefix)"
        let env = ProcessInfo.processInfo.environment
        guard let dbURL = env["PEDULI_TEST_DATABASE_URL"], let amqpURL = env["PEDULI_TEST_AMQP_URL"],
            let portalURL = env["PEDULI_TEST_AMQP_PORTAL_URL"]
        else {
            throw AMQPTestEnvironmentError(
                description:
                    "PEDULI_TEST_* are not set: run `scripts/services start && . .services/env` (or scripts/test)")
        }
        var components = URLComponents(string: dbURL)!
        components.path = "/" + databaseName
        databaseURL = components.string!
        database = try PostgresConfiguration(databaseURL, applicationName: "peduli-test")
        amqp = try AMQPConfiguration(url: amqpURL, heartbeatSeconds: 10, connectionName: "pipeline-test")
        portal = try AMQPConfiguration(url: portalURL, heartbeatSeconds: 10, connectionName: "portal-test")
        var p = PipelineConfiguration()
        p.dataKeys = TestDataKeys.keys
        for keyPath: WritableKeyPath<PipelineConfiguration.Topology, String> in [
            \.inboundExchange, \.registrationsQueue, \.paymentsQueue, \.eventsExchange, \.deadExchange,
            \.deadLettersQueue, \.retryQueuePrefix,
        ] {
            p.topology[keyPath: keyPath] = prefix + "." + p.topology[keyPath: keyPath]
        }
        p.topology.retryDelays = [.seconds(1), .seconds(2)]
        p.drain = .seconds(10)
        p.schedulerInterval = .seconds(3600)
        p.outboxPollInterval = .milliseconds(500)
        var programme = ProgrammeConfiguration()
        configure(&p, &programme)
        pipeline = p
        self.programme = programme
        var logger = Logger(label: "pipeline-test")
        logger.logLevel = .warning
        self.logger = logger

        let admin = try PostgresConnection(dbURL)
        try admin.execute(simple: "CREATE DATABASE \(databaseName) OWNER peduli")
        let db = try PostgresConnection(configuration: database)
        _ = try Migrator(migrations: Schema.migrations.filter { $0.version <= migrateThrough ?? .max }).migrate(db)
        let connection = try AMQPConnection(configuration: amqp)
        defer { connection.close() }
        try TopologyDeclaration(pipeline.topology).declare(on: connection)
        let capture = prefix + ".capture"
        // Durable, so a broker restart in the middle of a test loses no captured event.
        try connection.declareQueue(name: capture, durable: true, arguments: ["x-queue-type": .string("quorum")])
        try connection.bindQueue(name: capture, exchange: pipeline.topology.eventsExchange, routingKey: "#")
    }

    /// Adds sponsors to the roster.
    func roster(_ sponsors: [SampleWorkload.Sponsor]) throws {
        let db = try PostgresConnection(configuration: database)
        for s in sponsors {
            try db.execute(
                "INSERT INTO sponsors (nip, name, unit, active) VALUES ($1, $2, $3, $4) ON CONFLICT (nip) DO UPDATE SET active = EXCLUDED.active",
                [s.nip, s.name, s.unit, s.active])
        }
    }

    func sql(_ text: String, _ parameters: [PostgresValue?] = []) throws -> PostgresResult {
        try PostgresConnection(configuration: database).query(text, parameters)
    }

    // MARK: worker

    func makeService(health: HealthState = HealthState()) -> WorkerService {
        WorkerService(
            amqp: amqp, database: database, programme: programme, pipeline: pipeline, health: health,
            startupWait: .seconds(20), logger: logger)
    }

    /// Runs the worker in this process until `body` returns, then stops it gracefully.
    @discardableResult
    func withWorker<T: Sendable>(instances: Int = 1, _ body: @Sendable () async throws -> T) async throws -> T {
        let services = (0..<instances).map { _ in makeService() }
        let group = ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        let running = Task { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await running.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
    }

    // MARK: publishing as a portal

    /// Publishes commands with confirms as the `portal` user; each item is (routing key, body, properties).
    func publish(_ messages: [(String, [UInt8], AMQPProperties)]) async throws {
        let portal = self.portal
        let exchange = pipeline.topology.inboundExchange
        try await onOwnThread {
            let connection = try AMQPConnection(configuration: portal)
            defer { connection.close() }
            try connection.confirmSelect()
            for (key, body, properties) in messages {
                try connection.publish(exchange: exchange, routingKey: key, body: body, properties: properties)
            }
            let nacked = try connection.waitForConfirms(timeout: .seconds(30))
            guard nacked.isEmpty else { throw AMQPTestEnvironmentError(description: "broker nacked \(nacked)") }
        }
    }

    static func properties(
        _ messageID: String? = UUID().uuidString, user: String? = "portal",
        contentType: String? = "application/json", correlationID: String? = nil
    ) -> AMQPProperties {
        AMQPProperties(
            contentType: contentType, deliveryMode: 2, correlationId: correlationID, messageId: messageID,
            userId: user, appId: "portal-test")
    }

    func register(_ r: SampleWorkload.Registration, messageID: String = UUID().uuidString) async throws {
        try await publish([
            (pipeline.topology.registrationsRoutingKey, r.body.canonicalJSON(), Self.properties(messageID))
        ])
    }

    func pay(_ p: SampleWorkload.Payment, messageID: String = UUID().uuidString) async throws {
        try await publish([(pipeline.topology.paymentsRoutingKey, p.body.canonicalJSON(), Self.properties(messageID))])
    }

    // MARK: capturing what the worker emits

    /// Waits until `predicate` holds for the captured events (and dead letters), or fails after `timeout`.
    @discardableResult
    func waitFor(
        _ what: String, timeout: Duration = .seconds(30),
        _ predicate: @escaping @Sendable (_ events: [Captured], _ dead: [Captured]) -> Bool
    ) async throws -> (events: [Captured], dead: [Captured]) {
        startCapture()
        let deadline = ContinuousClock.now + timeout
        while true {
            let snapshot = lock.withLock { (events, deadLetters) }
            if predicate(snapshot.0, snapshot.1) { return snapshot }
            if ContinuousClock.now >= deadline {
                throw AMQPTestEnvironmentError(
                    description:
                        "timed out waiting for \(what): \(snapshot.0.count) events \(Dictionary(grouping: snapshot.0, by: \.type).mapValues(\.count)), \(snapshot.1.count) dead letters"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    var capturedEvents: [Captured] { lock.withLock { events } }
    var capturedDeadLetters: [Captured] { lock.withLock { deadLetters } }

    private func startCapture() {
        let start = lock.withLock { () -> Bool in
            if captureThread != nil { return false }
            captureThread = Thread { [self] in captureLoop() }
            return true
        }
        if start { captureThread!.start() }
    }

    /// Consumes the capture queue and the dead-letter queue, reconnecting after a broker restart.
    private func captureLoop() {
        while !lock.withLock({ captureStop }) {
            do {
                let connection = try AMQPConnection(configuration: amqp)
                defer { connection.close() }
                let eventsTag = try connection.consume(queue: prefix + ".capture", noAck: false)
                _ = try connection.consume(queue: pipeline.topology.deadLettersQueue, noAck: false)
                while !lock.withLock({ captureStop }) {
                    guard case .delivery(let d)? = try connection.nextEvent(timeout: .milliseconds(100)) else {
                        continue
                    }
                    let captured = Captured(routingKey: d.routingKey, properties: d.properties, body: d.body)
                    try connection.ack(deliveryTag: d.deliveryTag)
                    lock.withLock {
                        if d.consumerTag == eventsTag { events.append(captured) } else { deadLetters.append(captured) }
                    }
                }
            } catch {
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    /// Stops capturing and drops the test's database and broker objects.
    func tearDown() {
        lock.withLock { captureStop = true }
        Thread.sleep(forTimeInterval: 0.2)
        if let connection = try? AMQPConnection(configuration: amqp) {
            let t = pipeline.topology
            for queue in [t.registrationsQueue, t.paymentsQueue, t.deadLettersQueue, prefix + ".capture"]
                + t.retryDelays.map(t.retryQueue(for:))
            {
                _ = try? connection.deleteQueue(name: queue)
            }
            for exchange in [t.inboundExchange, t.eventsExchange, t.deadExchange] {
                try? connection.deleteExchange(name: exchange)
            }
            connection.close()
        }
        if let url = ProcessInfo.processInfo.environment["PEDULI_TEST_DATABASE_URL"],
            let admin = try? PostgresConnection(url)
        {
            _ = try? admin.execute(simple: "DROP DATABASE IF EXISTS \(databaseName) WITH (FORCE)")
        }
    }
}
