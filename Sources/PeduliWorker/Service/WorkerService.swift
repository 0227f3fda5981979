import AMQPClient
import Foundation
import Logging
internal import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PostgresClient
import ServiceLifecycle

/// Why the worker could not start or had to stop, with the exit code docs/operations.md gives it.
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case dependencyUnavailable = "dependency_unavailable"
        case topologyMismatch = "topology_mismatch"
        case schemaMismatch = "schema_mismatch"
        case internalError = "internal_error"
        /// Personal data is stored or read, and `security.data_keys_file` is not set.
        case dataKeysMissing = "data_keys_missing"
    }

    public var code: Code
    public var operation: String
    public var detail: String

    public init(code: Code, operation: String, detail: String) {
        self.code = code
        self.operation = operation
        self.detail = detail
    }

    /// 69 for a dependency that never answered, 78 for a broker or schema that disagrees with the
    /// configuration, 70 otherwise.
    public var exitCode: Int32 {
        switch code {
        case .dependencyUnavailable: 69
        case .topologyMismatch, .schemaMismatch, .dataKeysMissing: 78
        case .internalError: 70
        }
    }

    public var description: String { "\(code.rawValue): \(operation): \(detail)" }
}

/// The daemon as one `Service`: migrates and declares at start-up, then runs the consumer, database,
/// outbox-relay and reminder threads until a graceful shutdown, which stops intake, settles and acknowledges
/// what is in flight, flushes the outbox and returns, all within `pipeline.drain`.
public struct WorkerService: Service {
    public let amqp: AMQPConfiguration
    public let database: PostgresConfiguration
    public let programme: ProgrammeConfiguration
    public let pipeline: PipelineConfiguration
    public let health: HealthState
    /// Told when the worker is consuming and when it starts to drain (systemd in the executable).
    public let statusReporter: any WorkerStatusReporter
    public let logger: Logger
    /// How long start-up waits for RabbitMQ and PostgreSQL before giving up with exit code 69.
    public var startupWait: Duration

    public init(
        amqp: AMQPConfiguration, database: PostgresConfiguration, programme: ProgrammeConfiguration,
        pipeline: PipelineConfiguration, health: HealthState,
        statusReporter: any WorkerStatusReporter = SilentStatusReporter(),
        startupWait: Duration = .seconds(60), logger: Logger
    ) {
        self.amqp = amqp
        self.database = database
        self.programme = programme
        self.pipeline = pipeline
        self.health = health
        self.statusReporter = statusReporter
        self.startupWait = startupWait
        self.logger = logger
    }

    public func run() async throws {
        // A stop during start-up (the broker or database may be away for the whole start-up wait) ends the
        // wait at once. Nothing has been consumed then, so nothing is left undone: the run ends normally.
        let stopDuringStartUp = Flag()
        let started = try await withGracefulShutdownHandler {
            try await startUp(stop: stopDuringStartUp)
        } onGracefulShutdown: {
            stopDuringStartUp.set()
        }
        guard started else {
            logger.info("stop requested during start-up; nothing was consumed")
            return
        }

        let toDatabase = BlockingQueue<CommandBatch>()
        let fromDatabase = BlockingQueue<DecidedBatch>()
        let workerUser = amqp.endpoints.first?.user
        let consumer = Consumer(
            amqp: amqp, pipeline: pipeline, toDatabase: toDatabase, fromDatabase: fromDatabase, health: health,
            logger: logger)
        let databaseLoops = (0..<max(1, pipeline.databaseThreads)).map { index in
            DatabaseLoop(
                database: database, programme: programme, pipeline: pipeline, workerUser: workerUser,
                input: toDatabase, output: fromDatabase, health: self.health, livenessKey: "database-\(index)",
                logger: logger)
        }
        let relay = OutboxRelay(amqp: amqp, database: database, pipeline: pipeline, health: health, logger: logger)
        let scheduler = ReminderScheduler(
            database: database, programme: programme, pipeline: pipeline, health: health, logger: logger)

        let consumerThread = OwnedThread(name: "peduli-consumer", stackSize: amqp.threadStackSize) { consumer.run() }
        let databaseThreads = databaseLoops.enumerated().map { index, loop in
            OwnedThread(name: "peduli-database-\(index)") { loop.run() }
        }
        let relayThread = OwnedThread(name: "peduli-relay", stackSize: amqp.threadStackSize) { relay.run() }
        let schedulerThread = OwnedThread(name: "peduli-scheduler") { scheduler.run() }

        // Ready once consuming (or at the latest when a shutdown begins).
        let health = self.health
        let statusReporter = self.statusReporter
        let readyTask = Task {
            while !Task.isCancelled && !health.snapshot.consuming { try? await Task.sleep(for: .milliseconds(50)) }
            if !Task.isCancelled {
                statusReporter.workerIsReady(status: "consuming")
                logger.info("peduli-worker is consuming")
            }
        }

        try? await gracefulShutdown()
        readyTask.cancel()
        statusReporter.workerIsStopping(status: "draining")
        logger.info(
            "graceful stop: no new messages; settling what is in flight",
            metadata: ["drain_seconds": "\(pipeline.drain.components.seconds)"])
        let deadline = ContinuousClock.now + pipeline.drain

        scheduler.stop.set()
        consumer.stopRequested.set()
        let drainedInTime = await waitUntil(deadline) {
            await consumerThread.join()
            for loop in databaseLoops { loop.inputClosed.set() }
            for thread in databaseThreads { await thread.join() }
            relay.stopWhenEmpty.set()
            await relayThread.join()
        }
        if !drainedInTime {
            logger.warning("drain time over; stopping with work unfinished (it stays unacknowledged or unsent)")
        }
        consumer.abort.set()
        for loop in databaseLoops { loop.abort.set() }
        relay.abort.set()
        scheduler.stop.set()
        await consumerThread.join()
        for thread in databaseThreads { await thread.join() }
        await relayThread.join()
        await schedulerThread.join()
        logger.info("peduli-worker stopped", metadata: ["drained": "\(drainedInTime)"])
    }

    /// Runs `work` but stops waiting at `deadline`; true when it finished in time.
    private func waitUntil(
        _ deadline: ContinuousClock.Instant, _ work: @escaping @Sendable () async -> Void
    ) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await work()
                return true
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Migrates the schema and declares the topology, waiting up to `startupWait` for both servers.
    /// Blocking calls run on a thread of their own. False when `stop` was set before it finished.
    func startUp(stop: Flag = Flag()) async throws -> Bool {
        // Every decision reads or writes personal data: without the keys nothing could be decided.
        _ = try DataKeys.required(pipeline.dataKeys, for: "run")
        let amqp = self.amqp
        let database = self.database
        let pipeline = self.pipeline
        let logger = self.logger
        let wait = startupWait
        let result = ResultBox()
        let thread = OwnedThread(name: "peduli-startup") {
            let deadline = ContinuousClock.now + wait
            var attempt = 0
            let backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(5))
            func retrying<T>(_ what: String, _ body: () throws -> T) throws -> T {
                while true {
                    if stop.isSet { throw StoppedDuringStartUp() }
                    do {
                        return try body()
                    } catch let error as TopologyError where error.mismatch {
                        throw WorkerError(code: .topologyMismatch, operation: "declare topology", detail: "\(error)")
                    } catch let error as PostgresError where error.code == .migration {
                        throw WorkerError(code: .schemaMismatch, operation: "migrate", detail: "\(error)")
                    } catch let error as WorkerError {
                        throw error
                    } catch let error as DataKeyError {
                        throw WorkerError(code: .dataKeysMissing, operation: "migrate", detail: "\(error)")
                    } catch {
                        attempt += 1
                        if ContinuousClock.now >= deadline {
                            throw WorkerError(code: .dependencyUnavailable, operation: what, detail: "\(error)")
                        }
                        if attempt == 1 || attempt % 5 == 0 {
                            logger.warning("waiting for \(what)", metadata: ["error": "\(error)"])
                        }
                        var left = backoff.delay(attempt: attempt - 1, random: .random(in: 0..<1))
                        while left > .zero && !stop.isSet {
                            blockingSleep(min(left, .milliseconds(50)))
                            left -= .milliseconds(50)
                        }
                    }
                }
            }
            do {
                try retrying("PostgreSQL") {
                    let db = try PostgresConnection(configuration: database, logger: logger)
                    let report = try Migrator(migrations: Schema.migrations(keys: pipeline.dataKeys), logger: logger)
                        .migrate(db)
                    if !report.applied.isEmpty {
                        logger.info("schema migrated", metadata: ["applied": "\(report.applied)"])
                    }
                }
                try retrying("RabbitMQ") {
                    let connection = try AMQPConnection(configuration: amqp.named("peduli-worker setup"))
                    defer { connection.close() }
                    do {
                        try TopologyDeclaration(pipeline.topology).declare(on: connection)
                    }
                }
                result.set(nil)
            } catch {
                result.set(error)
            }
        }
        await thread.join()
        if result.error is StoppedDuringStartUp { return false }
        if let error = result.error { throw error }
        return true
    }
}

struct StoppedDuringStartUp: Error {}

/// Carries an error out of a thread.
///
/// `@unchecked Sendable`: written once by the thread before it finishes, read after `join()`.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ error: Error?) { lock.withLock { stored = error } }
    var error: Error? { lock.withLock { stored } }
}
