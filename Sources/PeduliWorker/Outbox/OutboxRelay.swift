import AMQPClient
import Foundation
import Logging
internal import PeduliBase
import PeduliPrivacy
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
    /// Wakes the relay (it listens on `notifyChannel`) when the transaction that wrote outbox rows commits.
    static let wakeUp = PostgresStatement.notify(channel: notifyChannel)

    let amqp: AMQPConfiguration
    let database: PostgresConfiguration
    let pipeline: PipelineConfiguration
    let logger: Logger
    let health: HealthState
    let stopWhenEmpty = Flag()
    let abort = Flag()

    init(
        amqp: AMQPConfiguration, database: PostgresConfiguration, pipeline: PipelineConfiguration,
        health: HealthState, logger: Logger
    ) {
        self.amqp = amqp
        self.database = database
        self.pipeline = pipeline
        self.health = health
        self.logger = logger
    }

    /// The oldest rows that are due (a refused row waits until `not_before`), at most $1 of them and, counting
    /// their bodies and headers in order, only those that start below $2 bytes (so the first row always comes,
    /// however large). `octet_length` reads the stored size without decompressing.
    static let nextBatch = """
        SELECT id, exchange, routing_key, properties, headers, body, sealed, attempts FROM (
            SELECT id, exchange, routing_key, properties, headers, body, sealed, attempts,
                   sum(octet_length(body) + coalesce(octet_length(headers), 0)) OVER (ORDER BY id)
                       - octet_length(body) - coalesce(octet_length(headers), 0) AS before
            FROM (SELECT * FROM outbox WHERE not_before IS NULL OR not_before <= now() ORDER BY id LIMIT $1) AS oldest
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
        broker.onProgress = { [health] in health.heartbeat("relay") }
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
                    leader = try db.tryAdvisoryLock(Self.advisoryLockKey)
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
                    PipelineMetrics.outboxSetAside(
                        backlog: try db.query("SELECT count(*) AS n FROM outbox_set_aside")[0].int("n"))
                }
                let rows = try db.query(Self.nextBatch, [pipeline.outboxBatchSize, pipeline.outboxBatchBytes])
                if rows.isEmpty {
                    if stopWhenEmpty.isSet { return }
                    _ = try db.waitForNotifications(timeout: pipeline.outboxPollInterval)
                    failures = 0
                    continue
                }
                let channel = try broker.connect(shouldStop: { abort.isSet })
                let keys = pipeline.dataKeys
                try publishRound(rows.map { try Self.readRow($0, keys: keys) }, on: channel, db: db)
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
                blockingSleep(backoff.delay(attempt: failures - 1, random: .random(in: 0..<1)))
            }
        }
    }

    /// One outbox row as the relay publishes it.
    struct Row {
        var id: Int64
        var attempts: Int
        var message: OutboxMessage
        /// Why the sealed body cannot be opened (a key removed from the file, an altered value): the row is set
        /// aside instead of blocking the rows behind it.
        var unreadable: String? = nil
    }

    /// A row whose properties or headers cannot be read back is published in reduced form (identity and
    /// reason headers kept where readable) rather than not at all: its body and routing are intact.
    static func readRow(_ row: PostgresRow, keys: DataKeys?) throws -> Row {
        var body = try row.bytes("body")
        var unreadable: String?
        if try row.bool("sealed") {
            do {
                body = try DataKeys.required(keys, for: "outbox relay").open(
                    body, context: SealedPlace.outbox(properties: try row.string("properties")))
            } catch {
                unreadable = "\(error)"
                body = []
            }
        }
        var message = OutboxMessage(
            exchange: try row.string("exchange"), routingKey: try row.string("routing_key"),
            properties: AMQPProperties(deliveryMode: 2), body: body)
        let wireHeaders = try row.isNull("headers") ? nil : try row.bytes("headers")
        do {
            message.properties = try PropertiesCodec.restore(
                json: try row.string("properties"), wireHeaders: wireHeaders)
        } catch {
            if let json = try? PropertiesCodec.decode(try row.string("properties")) { message.properties = json }
            message = message.reduced(note: "stored properties unreadable")
        }
        return Row(
            id: try row.int64("id"), attempts: try row.int("attempts"), message: message, unreadable: unreadable)
    }

    /// Publishes one round of rows in confirm mode, then settles each row by its confirm: deleted when the broker
    /// took it; when it refused, retried later under `pipeline.outboxRetry` or set aside. A row whose content
    /// header does not fit a frame goes out in reduced form, and is set aside if even that does not fit; the
    /// connection stays up either way.
    func publishRound(_ rows: [Row], on channel: AMQPConnection, db: PostgresConnection) throws {
        var sequenceToRow: [UInt64: Row] = [:]
        var setAside: [(id: Int64, reason: String)] = []
        let publishedAt = ContinuousClock.now
        for row in rows {
            if let why = row.unreadable {
                setAside.append((row.id, "unreadable"))
                logger.error(
                    "outbox row cannot be opened; set aside", metadata: ["outbox_id": "\(row.id)", "error": "\(why)"])
                continue
            }
            let m = row.message
            do {
                sequenceToRow[
                    try channel.publish(
                        exchange: m.exchange, routingKey: m.routingKey, body: m.body,
                        properties: m.properties)] = row
            } catch let error as AMQPError where error.code == .messageTooLarge {
                let reduced = m.reduced(note: "headers removed: the copy did not fit one frame")
                do {
                    sequenceToRow[
                        try channel.publish(
                            exchange: m.exchange, routingKey: m.routingKey, body: m.body,
                            properties: reduced.properties)] = row
                    PipelineMetrics.outboxReduced()
                    logger.warning(
                        "outbox row published without its original headers (too large for a frame)",
                        metadata: ["outbox_id": "\(row.id)", "error": "\(error)"])
                } catch let error as AMQPError where error.code == .messageTooLarge {
                    setAside.append((row.id, "unpublishable"))
                    logger.error(
                        "outbox row cannot be published even reduced; set aside",
                        metadata: ["outbox_id": "\(row.id)", "error": "\(error)"])
                }
            }
        }
        let nacked = Set(try channel.waitForConfirms(timeout: .seconds(30), progress: { health.heartbeat("relay") }))
        let confirmTime = ContinuousClock.now - publishedAt
        let confirmedRows = sequenceToRow.filter { !nacked.contains($0.key) }.map(\.value)
        let confirmed = confirmedRows.map(\.id).sorted()
        var retryIDs: [Int64] = [], retryDelays: [String] = []
        var refusedRoutes: Set<String> = []
        for sequence in nacked.sorted() {
            guard let row = sequenceToRow[sequence] else { continue }
            refusedRoutes.insert(row.message.exchange.isEmpty ? row.message.routingKey : row.message.exchange)
            switch pipeline.outboxRetry.afterRefusal(previousAttempts: row.attempts) {
            case .retry(let delay):
                retryIDs.append(row.id)
                retryDelays.append(String(delay.seconds))
            case .setAside:
                setAside.append((row.id, "refused"))
            }
        }
        var statements: [PostgresStatement] = []
        if !confirmed.isEmpty {
            statements.append(
                PostgresStatement(
                    "DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray.int64(confirmed)]))
        }
        if !retryIDs.isEmpty {
            statements.append(
                PostgresStatement(
                    """
                    UPDATE outbox o SET attempts = o.attempts + 1, not_before = now() + make_interval(secs => r.delay)
                    FROM unnest($1::bigint[], $2::float8[]) AS r(id, delay) WHERE o.id = r.id
                    """, [PostgresArray.int64(retryIDs), PostgresArray.text(retryDelays)]))
        }
        if !setAside.isEmpty {
            statements.append(
                PostgresStatement(
                    """
                    WITH moved AS (
                        DELETE FROM outbox o USING unnest($1::bigint[], $2::text[]) AS a(id, reason) WHERE o.id = a.id
                        RETURNING o.*, a.reason)
                    INSERT INTO outbox_set_aside (id, exchange, routing_key, properties, headers, body, sealed,
                        created_at, attempts, reason)
                    SELECT id, exchange, routing_key, properties, headers, body, sealed, created_at,
                        attempts + CASE WHEN reason = 'refused' THEN 1 ELSE 0 END, reason
                    FROM moved
                    """, [PostgresArray.int64(setAside.map(\.id)), PostgresArray.text(setAside.map(\.reason))]))
        }
        if !statements.isEmpty { _ = try db.pipeline(statements) }
        if !nacked.isEmpty {
            PipelineMetrics.outboxRefused(nacked.count)
            logger.warning(
                "broker refused outbox rows; each is retried later on its own",
                metadata: [
                    "count": "\(nacked.count)", "routes": "\(refusedRoutes.sorted().prefix(5).joined(separator: ","))",
                    "set_aside": "\(setAside.count)",
                ])
        }
        for reason in Set(setAside.map(\.reason)) {
            PipelineMetrics.outboxSetAside(reason: reason, count: setAside.filter { $0.reason == reason }.count)
        }
        PipelineMetrics.published(
            confirmedRows.map { $0.message.kind(in: pipeline.topology) }, confirmSeconds: confirmTime.seconds)
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
