import AMQPClient
import Foundation
import Logging

/// A batch handed from the consumer thread to the database thread, and what came back.
struct DecidedBatch: Sendable {
    var batchID: UInt64
    var items: [AMQPDelivery]
    var dispositions: [ConsumerStateMachine<AMQPDelivery>.Disposition]
}

/// The consumer thread: owns the consuming AMQP connection, gathers deliveries into batches for the database
/// thread and acknowledges them once their transaction committed. It never blocks on the database, so
/// heartbeats keep flowing while a batch is in PostgreSQL.
final class Consumer: Sendable {
    let amqp: AMQPConfiguration
    let pipeline: PipelineConfiguration
    let toDatabase: BlockingQueue<ConsumerStateMachine<AMQPDelivery>.Batch>
    let fromDatabase: BlockingQueue<DecidedBatch>
    let health: HealthState
    let logger: Logger
    /// Set by the service on SIGTERM: cancel the consumers, settle what arrived, return.
    let stopRequested = Flag()
    /// Set when the drain time is over: return at once (unacknowledged deliveries go back to the queue).
    let abort = Flag()

    init(amqp: AMQPConfiguration, pipeline: PipelineConfiguration,
         toDatabase: BlockingQueue<ConsumerStateMachine<AMQPDelivery>.Batch>, fromDatabase: BlockingQueue<DecidedBatch>,
         health: HealthState, logger: Logger) {
        self.amqp = amqp
        self.pipeline = pipeline
        self.toDatabase = toDatabase
        self.fromDatabase = fromDatabase
        self.health = health
        self.logger = logger
    }

    func run() {
        let p = pipeline
        var machine = ConsumerStateMachine<AMQPDelivery>(
            batchSize: p.batchSize, maxWait: p.batchMaxWait, maxInFlight: p.maxBatchesInFlight,
            batchBytes: p.batchBytes, deliveryTag: { $0.deliveryTag },
            size: { $0.body.count + AMQPWireSize.envelopeEstimate($0.properties) })
        let tags = ["peduli-worker.registrations.\(ProcessInfo.processInfo.processIdentifier)",
                    "peduli-worker.payments.\(ProcessInfo.processInfo.processIdentifier)"]
        let topology = TopologyDeclaration(p.topology)
        let broker = AMQPReconnectingConnection(
            configuration: amqp.named("peduli-worker consumer"), logger: logger,
            setUp: { connection in
                try topology.declare(on: connection)
                try connection.qos(prefetchCount: UInt16(clamping: p.prefetch))
                try connection.consume(queue: p.topology.registrationsQueue, consumerTag: tags[0])
                try connection.consume(queue: p.topology.paymentsQueue, consumerTag: tags[1])
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
                logger.info("stop requested: no new deliveries; settling what arrived",
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
                    for tag in tags { try connection.cancel(consumerTag: tag) }
                    cancelled = true
                    health.setConsuming(false)
                }
                while let decided = fromDatabase.tryPop() {
                    for action in machine.completed(
                        batchID: decided.batchID, dispositions: decided.dispositions, items: decided.items)
                    {
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
                    if let batch = machine.received(delivery, at: clock.now) { toDatabase.push(batch) }
                case .consumerCancelled(let tag):
                    if cancelled { continue }
                    throw AMQPError(code: .channelClosedByServer, operation: "consume",
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
            logger.warning("stopped with batches unacknowledged; the broker will redeliver them",
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
