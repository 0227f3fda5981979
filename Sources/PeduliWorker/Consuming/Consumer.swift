import AMQPClient
import Foundation
import Logging

/// A batch handed from the consumer thread to the database thread.
typealias CommandBatch = ConsumerStateMachine<InboundDelivery>.Batch

/// What the database thread hands back: one verdict per delivery of the batch, in order.
struct DecidedBatch: Sendable {
    var batchID: UInt64
    var dispositions: [ConsumerStateMachine<InboundDelivery>.Disposition]
}

/// The consumer thread: owns the consuming AMQP connection, gathers deliveries into batches for the database
/// thread and acknowledges them once their transaction committed. It never blocks on the database, so
/// heartbeats keep flowing while a batch is in PostgreSQL.
final class Consumer: Sendable {
    let amqp: AMQPConfiguration
    let pipeline: PipelineConfiguration
    let toDatabase: BlockingQueue<CommandBatch>
    let fromDatabase: BlockingQueue<DecidedBatch>
    let health: HealthState
    let logger: Logger
    /// Set by the service on SIGTERM: cancel the consumers, settle what arrived, return.
    let stopRequested = Flag()
    /// Set when the drain time is over: return at once (unacknowledged deliveries go back to the queue).
    let abort = Flag()

    init(
        amqp: AMQPConfiguration, pipeline: PipelineConfiguration,
        toDatabase: BlockingQueue<CommandBatch>, fromDatabase: BlockingQueue<DecidedBatch>,
        health: HealthState, logger: Logger
    ) {
        self.amqp = amqp
        self.pipeline = pipeline
        self.toDatabase = toDatabase
        self.fromDatabase = fromDatabase
        self.health = health
        self.logger = logger
    }

    func run() {
        let p = pipeline
        var machine = ConsumerStateMachine<InboundDelivery>(
            batchSize: p.batchSize, maxWait: p.batchMaxWait, maxInFlight: p.maxBatchesInFlight,
            batchBytes: p.batchBytes, deliveryTag: { $0.delivery.deliveryTag },
            size: { $0.delivery.body.count + AMQPWireSize.envelopeEstimate($0.delivery.properties) })
        // One consumer per work queue; a delivery's tag says which queue, so which command, it came from.
        let pid = ProcessInfo.processInfo.processIdentifier
        let subscriptions: [(tag: String, queue: String, kind: CommandKind)] = [
            ("peduli-worker.registrations.\(pid)", p.topology.registrationsQueue, .registration),
            ("peduli-worker.payments.\(pid)", p.topology.paymentsQueue, .payment),
        ]
        let kinds = Dictionary(uniqueKeysWithValues: subscriptions.map { ($0.tag, $0.kind) })
        let topology = TopologyDeclaration(p.topology)
        let broker = AMQPReconnectingConnection(
            configuration: amqp.named("peduli-worker consumer"), logger: logger,
            setUp: { connection in
                try topology.declare(on: connection)
                try connection.qos(prefetchCount: UInt16(clamping: p.prefetch))
                for s in subscriptions { try connection.consume(queue: s.queue, consumerTag: s.tag) }
            })
        broker.onProgress = { [health] in health.heartbeat("consumer") }
        var generation: UInt64 = 0
        var cancelled = false
        let clock = ContinuousClock()
        defer {
            broker.close()
            health.setConsuming(false)
            health.setAMQPConnected(false)
        }

        while machine.phase != .finished && !abort.isSet {
            health.heartbeat("consumer")
            if stopRequested.isSet && machine.phase == .running {
                machine.stop()
                logger.info(
                    "stop requested: no new deliveries; settling what arrived",
                    metadata: ["in_flight_batches": "\(machine.inFlightCount)"])
            }
            do {
                // While stopping, a lost connection cannot acknowledge anything any more: give up on it.
                if machine.phase == .draining && (broker.connection?.isOpen != true) { break }
                let connection = try broker.connect(shouldStop: { self.abort.isSet || self.stopRequested.isSet })
                if connection.generation != generation {
                    if generation != 0 {
                        machine.connectionLost()
                        PipelineMetrics.reconnected("amqp", loop: "consumer")
                    }
                    generation = connection.generation
                    health.setAMQPConnected(true)
                    health.setConsuming(machine.phase == .running)
                }
                if machine.phase == .draining && !cancelled {
                    for s in subscriptions { try connection.cancel(consumerTag: s.tag) }
                    cancelled = true
                    health.setConsuming(false)
                }
                while let decided = fromDatabase.tryPop() {
                    for action in machine.completed(batchID: decided.batchID, dispositions: decided.dispositions) {
                        switch action {
                        case .ack(let tag, let multiple): try connection.ack(deliveryTag: tag, multiple: multiple)
                        case .nack(let tag): try connection.nack(deliveryTag: tag, requeue: true)
                        }
                    }
                }
                if let batch = machine.tick(at: clock.now) { toDatabase.push(batch) }
                if machine.phase == .finished { break }
                let idle: Duration = machine.inFlightCount > 0 ? .milliseconds(2) : .milliseconds(100)
                let wait = machine.waitBudget(at: clock.now, idle: idle)
                guard let event = try connection.nextEvent(timeout: wait) else { continue }
                switch event {
                case .delivery(let delivery):
                    guard let kind = kinds[delivery.consumerTag] else {
                        // Not one of this connection's consumers: nothing the worker subscribed can arrive so.
                        throw AMQPError(
                            code: .channelClosedByServer, operation: "consume",
                            detail: "a delivery for unknown consumer \(delivery.consumerTag)")
                    }
                    let inbound = InboundDelivery(kind: kind, delivery: delivery)
                    if let batch = machine.received(inbound, at: clock.now) { toDatabase.push(batch) }
                case .consumerCancelled(let tag):
                    if cancelled { continue }
                    throw AMQPError(
                        code: .channelClosedByServer, operation: "consume",
                        detail: "the broker cancelled consumer \(tag) (queue deleted or leader moved)")
                case .confirm, .returned:
                    continue
                }
            } catch {
                if abort.isSet { break }
                if stopRequested.isSet && machine.phase == .running { continue }
                logger.warning("consumer lost the broker; reconnecting", metadata: ["error": "\(error)"])
                health.setAMQPConnected(false)
                health.setConsuming(false)
                broker.connectionLost(error)
                if machine.phase == .draining { break }
            }
        }
        if machine.phase == .draining {
            logger.warning(
                "stopped with batches unacknowledged; the broker will redeliver them",
                metadata: ["in_flight_batches": "\(machine.inFlightCount)"])
        }
    }
}

extension AMQPConfiguration {
    /// The same broker settings with another connection name, so each loop is recognisable in the broker's UI.
    func named(_ name: String) -> AMQPConfiguration {
        var copy = self
        copy.connectionName = name
        return copy
    }
}
