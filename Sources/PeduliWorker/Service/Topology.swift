import AMQPClient
internal import PeduliBase

/// Declares docs/contract.md's broker topology, idempotently, on every (re)connect. If an object exists with
/// different arguments RabbitMQ refuses with 406 PRECONDITION_FAILED, whose text names the object and the
/// argument; that becomes a `TopologyError` and stops the worker at start-up.
public struct TopologyDeclaration: Sendable {
    public var topology: PipelineConfiguration.Topology

    public init(_ topology: PipelineConfiguration.Topology) { self.topology = topology }

    /// Arguments of the two work queues: quorum, a delivery limit, and at-least-once dead-lettering to
    /// `peduli.dead` (which needs `reject-publish` overflow).
    public var workQueueArguments: AMQPTable {
        [
            "x-queue-type": .string("quorum"),
            "x-delivery-limit": .int64(Int64(topology.deliveryLimit)),
            "x-dead-letter-exchange": .string(topology.deadExchange),
            "x-dead-letter-strategy": .string("at-least-once"),
            "x-overflow": .string("reject-publish"),
        ]
    }

    /// A retry queue holds a copy for its delay, then dead-letters it back to the payments queue, at least once.
    public func retryQueueArguments(delay: Duration) -> AMQPTable {
        let ms = delay.milliseconds
        return [
            "x-queue-type": .string("quorum"),
            "x-message-ttl": .int64(ms),
            "x-dead-letter-exchange": .string(""),
            "x-dead-letter-routing-key": .string(topology.paymentsQueue),
            "x-dead-letter-strategy": .string("at-least-once"),
            "x-overflow": .string("reject-publish"),
        ]
    }

    public func declare(on connection: AMQPConnection) throws(TopologyError) {
        let t = topology
        try step("exchange \(t.inboundExchange)") {
            try connection.declareExchange(name: t.inboundExchange, type: "topic", durable: true, arguments: [:])
        }
        try step("exchange \(t.eventsExchange)") {
            try connection.declareExchange(name: t.eventsExchange, type: "topic", durable: true, arguments: [:])
        }
        try step("exchange \(t.deadExchange)") {
            try connection.declareExchange(name: t.deadExchange, type: "fanout", durable: true, arguments: [:])
        }
        try step("queue \(t.deadLettersQueue)") {
            _ = try connection.declareQueue(
                name: t.deadLettersQueue, durable: true, arguments: ["x-queue-type": .string("quorum")])
            try connection.bindQueue(name: t.deadLettersQueue, exchange: t.deadExchange, routingKey: "")
        }
        for (queue, key) in [
            (t.registrationsQueue, t.registrationsRoutingKey), (t.paymentsQueue, t.paymentsRoutingKey),
        ] {
            try step("queue \(queue)") {
                _ = try connection.declareQueue(name: queue, durable: true, arguments: workQueueArguments)
                try connection.bindQueue(name: queue, exchange: t.inboundExchange, routingKey: key)
            }
        }
        for delay in t.retryDelays {
            let queue = t.retryQueue(for: delay)
            try step("queue \(queue)") {
                _ = try connection.declareQueue(
                    name: queue, durable: true, arguments: retryQueueArguments(delay: delay))
            }
        }
    }

    private func step(_ object: String, _ body: () throws -> Void) throws(TopologyError) {
        do {
            try body()
        } catch let error as AMQPError {
            throw TopologyError(object: object, underlying: error)
        } catch {
            throw TopologyError(object: object, underlying: nil, text: "\(error)")
        }
    }
}

/// A topology object could not be declared. `mismatch` is true when it exists with other arguments: an
/// operator has to reconcile the broker with the configuration, retrying will not help.
public struct TopologyError: Error, Sendable, CustomStringConvertible {
    public var object: String
    public var underlying: AMQPError?
    public var text: String?

    public init(object: String, underlying: AMQPError?, text: String? = nil) {
        self.object = object
        self.underlying = underlying
        self.text = text
    }

    public var mismatch: Bool { underlying?.code == .preconditionFailed }

    public var description: String {
        if mismatch, let reply = underlying?.replyText {
            return "topology_mismatch: \(object) exists with different arguments: \(reply)"
        }
        return "topology_declare_failed: \(object): \(underlying.map { "\($0)" } ?? text ?? "unknown error")"
    }
}
