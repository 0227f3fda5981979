import AMQPClient
import Foundation
import Logging
import PeduliDomain
import PeduliPrivacy
import PostgresClient

/// The one-shot operations behind `peduli-worker migrate` and `reminders run`, sharing the daemon's code.
public enum Maintenance {
    /// Applies pending migrations (safe twice and from two hosts at once); returns the versions applied.
    public static func migrate(database: PostgresConfiguration, keys: DataKeys?, logger: Logger) throws -> [Int] {
        let db = try PostgresConnection(configuration: database, logger: logger)
        return try Migrator(migrations: Schema.migrations(keys: keys), logger: logger).migrate(db).applied
    }

    /// One reminder pass as if today were `asOf`. Unless `dryRun`, the new reminders' events are then
    /// published (the outbox is flushed) before it returns. Nil when another instance holds the pass lock.
    public static func runReminders(
        asOf: JakartaDate, dryRun: Bool, amqp: AMQPConfiguration?, database: PostgresConfiguration,
        programme: ProgrammeConfiguration, pipeline: PipelineConfiguration, logger: Logger
    ) throws -> [PlannedReminder]? {
        let db = try PostgresConnection(configuration: database, logger: logger)
        let result = try ReminderScheduler.pass(
            on: db, asOf: asOf, dryRun: dryRun, programme: programme, pipeline: pipeline, logger: logger)
        if !dryRun, let amqp {
            try flushOutbox(amqp: amqp, database: database, pipeline: pipeline, logger: logger)
        }
        return result
    }

    /// Publishes everything waiting in the outbox, then returns (used by one-shot commands; the daemon's relay
    /// does the same continuously).
    public static func flushOutbox(
        amqp: AMQPConfiguration, database: PostgresConfiguration, pipeline: PipelineConfiguration, logger: Logger
    ) throws {
        let relay = OutboxRelay(
            amqp: amqp, database: database, pipeline: pipeline, health: HealthState(), logger: logger)
        relay.stopWhenEmpty.set()
        relay.run()
        let db = try PostgresConnection(configuration: database, logger: logger)
        let left = try db.query("SELECT count(*) AS n FROM outbox")[0].int("n")
        if left > 0 {
            throw WorkerError(
                code: .dependencyUnavailable, operation: "flush outbox",
                detail: "\(left) events could not be published; the daemon will publish them")
        }
    }
}
