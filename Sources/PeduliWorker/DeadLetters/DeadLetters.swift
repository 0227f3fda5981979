import AMQPClient
import Foundation
import Logging
import PostgresClient

/// `peduli-worker dead-letters list|show|replay|purge` (docs/operations.md, "Dead letters").
///
/// Reading never loses or reorders a message and needs no management plugin: the queue is consumed with
/// manual acknowledgement and a prefetch of its whole length, nothing is acknowledged but what is replayed
/// or purged, and the connection is then closed, which returns every unacknowledged message to the quorum
/// queue. RabbitMQ puts returned messages back ahead of the rest, in the order they were delivered, so the
/// queue's order is what it was. On RabbitMQ 3.x each return adds one to the message's `x-delivery-count`
/// in `peduli.dead-letters`; that count is only shown (nothing reads it: the delivery count that parked a
/// message is in its `x-death` entry, which reading does not change), never copied into a replay, and the
/// dead-letters queue has no `x-delivery-limit`, so reads can never drop a message (a policy adding one to
/// it would: docs/operations.md says not to).
///
/// Every call runs blocking client calls: call it from a thread you own.
public struct DeadLetters: Sendable {
    public var amqp: AMQPConfiguration
    public var topology: PipelineConfiguration.Topology
    public var logger: Logger
    /// How long a read waits for the next message before taking the queue as read to its end.
    public var idleTimeout: Duration = .seconds(2)

    public init(amqp: AMQPConfiguration, topology: PipelineConfiguration.Topology, logger: Logger) {
        self.amqp = amqp
        self.topology = topology
        self.logger = logger
    }

    /// The worker's own AMQP user: a copy under it is the worker's (`ParkedMessage.publisher(of:workerUser:)`).
    var workerUser: String? { amqp.endpoints.first?.user }

    /// The most a read takes (the prefetch is a 16-bit number).
    public static let maximumRead = 65_535

    // MARK: - Reading

    /// Every parked message, oldest first (at most ``maximumRead``), all of them back in the queue in their
    /// order when this returns.
    public func read() throws -> [ParkedMessage] {
        try withReader { reader in reader.messages }
    }

    /// Reads the queue on a connection of its own, runs `body` with what was read (acknowledging through the
    /// reader removes a message), then closes the connection: whatever was not acknowledged goes back.
    func withReader<T>(_ body: (Reader) throws -> T) throws -> T {
        let connection = try AMQPConnection(
            configuration: renamed(amqp, "peduli-worker dead-letters"), beforeEachNode: {})
        defer { connection.close() }
        let reader = try Reader(
            connection: connection, queue: topology.deadLettersQueue, workerUser: workerUser,
            idleTimeout: idleTimeout)
        return try body(reader)
    }

    final class Reader {
        let connection: AMQPConnection
        private(set) var messages: [ParkedMessage] = []

        init(connection: AMQPConnection, queue: String, workerUser: String?, idleTimeout: Duration) throws {
            self.connection = connection
            let total = min(Int(try connection.declareQueue(name: queue, passive: true).messageCount), maximumRead)
            guard total > 0 else { return }
            try connection.qos(prefetchCount: UInt16(total))
            let tag = try connection.consume(queue: queue, noAck: false)
            let clock = ContinuousClock()
            var idleUntil = clock.now + idleTimeout
            while messages.count < total {
                guard let event = try connection.nextEvent(timeout: .milliseconds(200)) else {
                    if clock.now >= idleUntil { break }
                    continue
                }
                switch event {
                case .delivery(let delivery):
                    messages.append(
                        ParkedMessage(position: messages.count + 1, delivery: delivery, workerUser: workerUser))
                    idleUntil = clock.now + idleTimeout
                case .consumerCancelled:
                    throw WorkerError(
                        code: .dependencyUnavailable, operation: "read \(queue)",
                        detail: "the broker cancelled the consumer (queue deleted or moved)")
                default:
                    continue
                }
            }
            // No further deliveries: what arrives from now on stays in the queue untouched.
            try connection.cancel(consumerTag: tag)
        }

        func remove(_ message: ParkedMessage) throws {
            try connection.ack(deliveryTag: message.delivery.deliveryTag)
        }
    }

    // MARK: - Selecting

    /// What a command names: message ids or `#N` positions, or every message with a reason.
    public enum Selection: Sendable, Equatable {
        case ids([String])
        case reason(String)
    }

    public struct SelectionError: Error, Sendable, CustomStringConvertible {
        public var problems: [String]
        public var description: String { problems.joined(separator: "; ") }
    }

    /// The messages a selection names, in queue order, each once. Throws when an id names nothing.
    public static func select(_ selection: Selection, from messages: [ParkedMessage]) throws -> [ParkedMessage] {
        switch selection {
        case .reason(let code):
            return messages.filter { $0.reason == code }
        case .ids(let ids):
            var chosen = Set<Int>()
            var missing: [String] = []
            for id in ids {
                let matches: [ParkedMessage]
                if id.hasPrefix("#"), let position = Int(id.dropFirst()) {
                    matches = messages.filter { $0.position == position }
                } else {
                    matches = messages.filter { $0.messageID == id }
                }
                if matches.isEmpty { missing.append(id) }
                chosen.formUnion(matches.map(\.position))
            }
            if !missing.isEmpty {
                throw SelectionError(problems: missing.map { "no parked message \($0)" })
            }
            return messages.filter { chosen.contains($0.position) }
        }
    }

    // MARK: - Replaying

    public enum ReplayOutcome: Sendable, Equatable {
        /// Republished under the new id, confirmed, and the parked copy removed.
        case replayed(newMessageID: String)
        /// An earlier run had already republished it (confirmed): only the parked copy was removed.
        case alreadyReplayed(newMessageID: String)
        /// Not republished, or not confirmed: the parked copy stays.
        case failed(String)
    }

    public struct ReplayResult: Sendable, Equatable {
        public var message: ParkedMessage
        public var outcome: ReplayOutcome
    }

    /// Checks a selection for replay before anything is sent: every message needs a routing key, and those
    /// that need `--force` need it.
    public func replayProblems(_ selected: [ParkedMessage], force: Bool) -> [String] {
        var problems: [String] = []
        for m in selected {
            let name = "#\(m.position) (\(m.messageID ?? "no message_id"))"
            if m.needsForce && !force {
                problems.append(
                    "\(name) was parked as \(m.reason): "
                        + (m.isParkedByBroker
                            ? "it failed every delivery; replay it with --force once the cause is fixed"
                            : "the first decision is final; a corrected command needs a new id (or --force)"))
            }
            if m.replayRoutingKey(topology) == nil {
                problems.append("\(name) has routing key '\(m.delivery.routingKey)' and no known work queue")
            }
        }
        return problems
    }

    /// Republishes each selected message to the inbound exchange (publisher confirms, mandatory) and removes
    /// the parked copy after the broker confirmed the replay; see ``Schema/v7`` for the record that makes an
    /// interrupted run safe to repeat. `afterConfirm` runs between the confirm and the removal (a test's
    /// kill point).
    public func replay(
        _ selection: Selection, force: Bool, operator operatorName: String, database: PostgresConfiguration,
        afterConfirm: (ParkedMessage) -> Void = { _ in }
    ) throws -> [ReplayResult] {
        let db = try PostgresConnection(configuration: database, logger: logger)
        _ = try Migrator(migrations: Schema.migrations, logger: logger).migrate(db)
        return try withReader { reader in
            let selected = try Self.select(selection, from: reader.messages)
            let problems = replayProblems(selected, force: force)
            if !problems.isEmpty { throw SelectionError(problems: problems) }
            guard !selected.isEmpty else { return [] }
            let publisher = try AMQPConnection(
                configuration: renamed(amqp, "peduli-worker dead-letters replay"), beforeEachNode: {})
            defer { publisher.close() }
            try publisher.confirmSelect()
            var results: [ReplayResult] = []
            for message in selected {
                let outcome = try replayOne(
                    message, force: force, operatorName: operatorName, db: db, publisher: publisher,
                    reader: reader, afterConfirm: afterConfirm)
                results.append(ReplayResult(message: message, outcome: outcome))
            }
            return results
        }
    }

    private func replayOne(
        _ message: ParkedMessage, force: Bool, operatorName: String, db: PostgresConnection,
        publisher: AMQPConnection, reader: Reader, afterConfirm: (ParkedMessage) -> Void
    ) throws -> ReplayOutcome {
        let fingerprint = message.fingerprint
        let earlier = try db.query(
            """
            SELECT new_message_id, confirmed_at IS NOT NULL AS confirmed FROM dead_letter_replays
            WHERE fingerprint = $1 ORDER BY id DESC LIMIT 1
            """, [fingerprint]
        ).first
        if let earlier, try earlier.string("confirmed") == "t" {
            let newID = try earlier.string("new_message_id")
            try reader.remove(message)
            return .alreadyReplayed(newMessageID: newID)
        }
        let routingKey = message.replayRoutingKey(topology)!
        let newID: String
        if let earlier {
            // Published before, confirm unknown: the same id again, so the inbox makes a second copy a no-op.
            newID = try earlier.string("new_message_id")
        } else {
            newID = UUID().uuidString.lowercased()
            _ = try db.execute(
                """
                INSERT INTO dead_letter_replays
                    (fingerprint, original_message_id, new_message_id, reason, routing_key, publisher, forced, operator)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [
                    fingerprint, message.messageID, newID, message.reason, routingKey, message.publisher,
                    force && message.needsForce, operatorName,
                ])
        }
        let properties = message.replayProperties(newMessageID: newID, publisherUser: publisher.endpoint.user)
        let sequence = try publisher.publish(
            exchange: topology.inboundExchange, routingKey: routingKey, body: message.delivery.body,
            properties: properties, mandatory: true)
        let nacked = try publisher.waitForConfirms(upTo: sequence, timeout: .seconds(30))
        var returned: AMQPReturnedMessage?
        while let event = try publisher.nextEvent(timeout: .milliseconds(1)) {
            if case .returned(let r) = event, r.properties.messageId == newID { returned = r }
        }
        if !nacked.isEmpty { return .failed("the broker refused the replay (nack)") }
        if let returned {
            return .failed("the broker could not route it (\(returned.replyCode) \(returned.replyText))")
        }
        _ = try db.execute(
            "UPDATE dead_letter_replays SET confirmed_at = now() WHERE new_message_id = $1", [newID])
        afterConfirm(message)
        try reader.remove(message)
        logger.info(
            "dead letter replayed",
            metadata: [
                "original_message_id": "\(message.messageID ?? "")", "new_message_id": "\(newID)",
                "reason": "\(message.reason)", "operator": "\(operatorName)",
            ])
        return .replayed(newMessageID: newID)
    }

    // MARK: - Purging

    public struct PurgeResult: Sendable, Equatable {
        public var purged: [ParkedMessage]
        /// Of that reason, but parked more recently or at an unknown time: kept.
        public var kept: Int
    }

    /// Removes for good the messages with that reason parked before `now - olderThan`. A message whose time is
    /// unknown is kept.
    public func purge(reason: String, olderThan: Duration, now: Date = Date()) throws -> PurgeResult {
        let cutoff = now.addingTimeInterval(-Double(olderThan.components.seconds))
        return try withReader { reader in
            var result = PurgeResult(purged: [], kept: 0)
            for message in reader.messages where message.reason == reason {
                guard let at = message.parkedAt, at < cutoff else {
                    result.kept += 1
                    continue
                }
                try reader.remove(message)
                result.purged.append(message)
            }
            if !result.purged.isEmpty {
                logger.info(
                    "dead letters purged", metadata: ["reason": "\(reason)", "count": "\(result.purged.count)"])
            }
            return result
        }
    }

    private func renamed(_ configuration: AMQPConfiguration, _ name: String) -> AMQPConfiguration {
        var configuration = configuration
        configuration.connectionName = name
        return configuration
    }
}
