internal import CRabbitMQ

extension AMQPConnection {
    /// Per-consumer (`global: false`) is what quorum queues require.
    public func qos(prefetchCount: UInt16, global: Bool = false) throws {
        _ = try rpc("qos(\(prefetchCount))") { state, _ in
            amqp_basic_qos(state, channel, 0, prefetchCount, global ? 1 : 0)
        }
    }

    /// Starts a consumer and returns its tag (the broker's when `consumerTag` is empty).
    @discardableResult
    public func consume(
        queue: String, consumerTag: String = "", noAck: Bool = false, exclusive: Bool = false,
        arguments: AMQPTable = [:]
    ) throws -> String {
        try rpc("consume(\(queue))") { state, arena in
            let ok = amqp_basic_consume(
                state, channel, arena.bytes(queue), arena.bytes(consumerTag), 0, noAck ? 1 : 0,
                exclusive ? 1 : 0, arena.table(arguments))
            return ok.map { CDecode.string($0.pointee.consumer_tag) } ?? consumerTag
        }
    }

    /// Stops a consumer. Deliveries already in flight may still arrive from `nextEvent` and must
    /// still be acked or nacked.
    public func cancel(consumerTag: String) throws {
        _ = try rpc("cancel(\(consumerTag))") { state, arena in
            amqp_basic_cancel(state, channel, arena.bytes(consumerTag))
        }
    }

    public func ack(deliveryTag: UInt64, multiple: Bool = false) throws {
        let state = try usableState("ack")
        try checkStatus(amqp_basic_ack(state, channel, deliveryTag, multiple ? 1 : 0), "ack(\(deliveryTag))")
    }

    public func nack(deliveryTag: UInt64, multiple: Bool = false, requeue: Bool) throws {
        let state = try usableState("nack")
        try checkStatus(
            amqp_basic_nack(state, channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0),
            "nack(\(deliveryTag))")
    }

    public func reject(deliveryTag: UInt64, requeue: Bool) throws {
        let state = try usableState("reject")
        try checkStatus(amqp_basic_reject(state, channel, deliveryTag, requeue ? 1 : 0), "reject(\(deliveryTag))")
    }
}
