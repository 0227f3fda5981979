import AMQPClient
import Foundation
import Logging
import PostgresClient

/// Publishes the outbox: every event, parked message and retry copy the pipeline committed.
///
/// Runs on a thread of its own with its own AMQP connection (publishing and consuming never share one) in
/// confirm mode, and its own PostgreSQL session that LISTENs for `peduli_outbox` (with a slow poll as a
/// safety net for notifications lost across a reconnect). Rows are published in order of creation and
/// deleted only after the broker confirmed them; anything unconfirmed when a connection dies stays in the
/// outbox and goes out again, so an event may be published twice but never zero times.
///
/// Several instances may run: a session advisory lock makes one of them the publisher at a time, which keeps
/// events in creation order; the others wait and take over when its session ends.
final class OutboxRelay: Sendable {
    static let notifyChannel = "peduli_outbox"
    static let advisoryLockKey: Int64 = 0x7065_6475_6c69_0002

    let amqp: AMQPConfiguration
    let database: PostgresConfiguration
    let pipeline: PipelineConfiguration
    let logger: Logger
    let health: HealthState
    let stopWhenEmpty = Flag()
    let abort = Flag()

    init(amqp: AMQPConfiguration, database: PostgresConfiguration, pipeline: PipelineConfiguration,
         health: HealthState, logger: Logger) {
        self.amqp = amqp
        self.database = database
        self.pipeline = pipeline
        self.health = health
        self.logger = logger
    }

    /// The oldest rows, at most $1 of them and, counting their bodies in order, only those that start below $2
    /// bytes (so the first row always comes, however large). `octet_length` reads the stored size without
    /// decompressing the body.
    static let nextBatch = """
        SELECT id, exchange, routing_key, properties, body FROM (
            SELECT id, exchange, routing_key, properties, body,
                   sum(octet_length(body)) OVER (ORDER BY id) - octet_length(body) AS before
            FROM (SELECT * FROM outbox ORDER BY id LIMIT $1) AS oldest
        ) AS sized
        WHERE before < $2
        ORDER BY id
        """

    /// The relay's loop; returns when asked to stop and the outbox is empty, or when aborted.
    func run() {
        let topology = TopologyDeclaration(pipeline.topology)
        let broker = AMQPReconnectingConnection(
            configuration: amqp.named("peduli-worker relay"), logger: logger,
            setUp: { connection in
                try topology.declare(on: connection)
                try connection.confirmSelect()
            })
        var session: PostgresConnection?
        var leader = false
        let backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10))
        var failures = 0
        var lastBacklogReading = ContinuousClock.now - .seconds(60)
        defer { broker.close() }

        while !abort.isSet {
            health.heartbeat("relay")
            do {
                let db = try session ?? openSession()
                session = db
                if !leader {
                    leader = try db.query("SELECT pg_try_advisory_lock($1) AS locked", [Self.advisoryLockKey])[0].bool("locked")
                    if !leader {
                        if stopWhenEmpty.isSet { return }
                        _ = try db.waitForNotifications(timeout: pipeline.outboxPollInterval)
                        continue
                    }
                    logger.info("outbox relay is the publisher")
                }
                if ContinuousClock.now - lastBacklogReading >= .seconds(5) {
                    lastBacklogReading = ContinuousClock.now
                    let backlog = try db.query(
                        """
                        SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age
                        FROM outbox
                        """)[0]
                    PipelineMetrics.outbox(backlog: try backlog.int("n"), oldestAgeSeconds: try backlog.double("age"))
                }
                let rows = try db.query(Self.nextBatch, [pipeline.outboxBatchSize, pipeline.outboxBatchBytes])
                if rows.isEmpty {
                    if stopWhenEmpty.isSet { return }
                    _ = try db.waitForNotifications(timeout: pipeline.outboxPollInterval)
                    failures = 0
                    continue
                }
                let channel = try broker.connect(shouldStop: { abort.isSet })
                var sequenceToID: [UInt64: Int64] = [:]
                let publishedAt = ContinuousClock.now
                for row in rows {
                    let id = try row.int64("id")
                    let properties: AMQPProperties
                    do {
                        properties = try PropertiesCodec.decode(try row.string("properties"))
                    } catch {
                        logger.error("outbox row has unreadable properties; published without them",
                                     metadata: ["outbox_id": "\(id)"])
                        properties = AMQPProperties(deliveryMode: 2)
                    }
                    let sequence = try channel.publish(
                        exchange: try row.string("exchange"), routingKey: try row.string("routing_key"),
                        body: try row.bytes("body"), properties: properties)
                    sequenceToID[sequence] = id
                }
                let nacked = Set(try channel.waitForConfirms(timeout: .seconds(30)))
                let confirmTime = ContinuousClock.now - publishedAt
                let confirmed = sequenceToID.filter { !nacked.contains($0.key) }.map(\.value).sorted()
                if !confirmed.isEmpty {
                    try db.execute(
                        "DELETE FROM outbox WHERE id = ANY($1::bigint[])",
                        [PostgresArray.int64(confirmed)])
                }
                if !nacked.isEmpty {
                    logger.warning("broker refused events; they stay in the outbox", metadata: ["count": "\(nacked.count)"])
                }
                PipelineMetrics.published(confirmed.count, confirmSeconds: confirmTime.seconds)
                failures = 0
            } catch let error as AMQPError {
                broker.connectionLost(error)
                logger.warning("relay lost the broker", metadata: ["error": "\(error)"])
                failures += 1
            } catch let error as PostgresError {
                if error.category == .connectionLost { leader = false }
                logger.warning("relay database error", metadata: ["error": "\(error)"])
                failures += 1
            } catch {
                logger.error("relay error", metadata: ["error": "\(error)"])
                failures += 1
            }
            if failures > 0 {
                if stopWhenEmpty.isSet && failures > 3 { return }
                AMQPReconnectingConnection.threadSleep(backoff.delay(attempt: failures - 1, random: .random(in: 0..<1)))
            }
        }
    }

    /// The relay's session commits its deletions without waiting for the WAL flush: a deletion lost in a
    /// server crash only republishes events the broker already confirmed (same `event_id`, which consumers
    /// deduplicate), and the flush no longer sits between one batch of events and the next.
    private func openSession() throws -> PostgresConnection {
        var configuration = database
        configuration.sessionSettings["synchronous_commit"] = "off"
        let db = try PostgresConnection(configuration: configuration, logger: logger)
        try db.listen(Self.notifyChannel)
        return db
    }
}
