import AMQPClient
import Foundation
import Logging
internal import PeduliBase
import PeduliDomain
import PostgresClient

/// The database thread: takes batches from the consumer in order, decides and commits each, and hands the
/// dispositions back. While PostgreSQL is unreachable it keeps the batch (nothing is acknowledged), reconnects
/// with backoff and tries the same batch again.
final class DatabaseLoop: Sendable {
    let database: PostgresConfiguration
    let programme: ProgrammeConfiguration
    let pipeline: PipelineConfiguration
    let workerUser: String?
    let input: BlockingQueue<CommandBatch>
    let output: BlockingQueue<DecidedBatch>
    let health: HealthState
    let logger: Logger
    /// The loop's own liveness key (`database-0`, ...): with a shared key one stuck thread hid behind the other.
    let livenessKey: String
    /// Set once the consumer has returned: finish what is queued, then return.
    let inputClosed = Flag()
    let abort = Flag()

    init(
        database: PostgresConfiguration, programme: ProgrammeConfiguration, pipeline: PipelineConfiguration,
        workerUser: String?, input: BlockingQueue<CommandBatch>,
        output: BlockingQueue<DecidedBatch>, health: HealthState, livenessKey: String = "database", logger: Logger
    ) {
        self.livenessKey = livenessKey
        self.database = database
        self.programme = programme
        self.pipeline = pipeline
        self.workerUser = workerUser
        self.input = input
        self.output = output
        self.health = health
        self.logger = logger
    }

    func run() {
        var processor: CommandProcessor?
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10))
        // Connect before the first batch, so readiness reflects the database from the start.
        processor = try? makeProcessor()
        while !abort.isSet {
            health.heartbeat(livenessKey)
            guard let batch = input.pop(timeout: .milliseconds(200)) else {
                if inputClosed.isSet && input.count == 0 { return }
                continue
            }
            var failures = 0
            while !abort.isSet {
                do {
                    let p = try processor ?? makeProcessor()
                    processor = p
                    let dispositions = try p.process(batch.items)
                    health.setDatabaseConnected(true)
                    output.push(DecidedBatch(batchID: batch.id, dispositions: dispositions))
                    break
                } catch {
                    health.heartbeat(livenessKey)  // retrying is not hanging
                    failures += 1
                    health.setDatabaseConnected(false)
                    if failures == 1 || failures % 10 == 0 {
                        logger.warning(
                            "database unavailable; the batch stays unacknowledged",
                            metadata: [
                                "error": "\(error)", "attempt": "\(failures)", "size": "\(batch.items.count)",
                            ])
                    }
                    PipelineMetrics.reconnected("postgres", loop: "database")
                    blockingSleep(
                        backoff.delay(attempt: failures - 1, random: .random(in: 0..<1)))
                }
            }
        }
    }

    private func makeProcessor() throws -> CommandProcessor {
        let db = try PostgresConnection(configuration: database, logger: logger)
        health.setDatabaseConnected(true)
        return try CommandProcessor(
            db: db, programme: programme, pipeline: pipeline, workerUser: workerUser, logger: logger)
    }
}
