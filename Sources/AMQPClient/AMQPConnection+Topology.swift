internal import CRabbitMQ

extension AMQPConnection {
    public func declareExchange(
        name: String, type: String, durable: Bool = true, autoDelete: Bool = false,
        isInternal: Bool = false, arguments: AMQPTable = [:], passive: Bool = false
    ) throws {
        _ = try rpc("declareExchange(\(name))") { state, arena in
            amqp_exchange_declare(
                state, channel, arena.bytes(name), arena.bytes(type), passive ? 1 : 0, durable ? 1 : 0,
                autoDelete ? 1 : 0, isInternal ? 1 : 0, arena.table(arguments))
        }
    }

    /// Declares (or with `passive`, checks) a queue. An existing queue with other arguments makes the
    /// broker answer 406 PRECONDITION_FAILED naming the queue and argument, and close the channel.
    @discardableResult
    public func declareQueue(
        name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
        arguments: AMQPTable = [:], passive: Bool = false
    )
        throws -> (queue: String, messageCount: UInt32, consumerCount: UInt32)
    {
        try rpc("declareQueue(\(name))") { state, arena in
            let ok = amqp_queue_declare(
                state, channel, arena.bytes(name), passive ? 1 : 0, durable ? 1 : 0,
                exclusive ? 1 : 0, autoDelete ? 1 : 0, arena.table(arguments))
            guard let ok else { return (name, 0, 0) }
            return (CDecode.string(ok.pointee.queue), ok.pointee.message_count, ok.pointee.consumer_count)
        }
    }

    public func bindQueue(name: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) throws {
        _ = try rpc("bindQueue(\(name) to \(exchange) with \(routingKey))") { state, arena in
            amqp_queue_bind(
                state, channel, arena.bytes(name), arena.bytes(exchange), arena.bytes(routingKey),
                arena.table(arguments))
        }
    }

    public func unbindQueue(name: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) throws {
        _ = try rpc("unbindQueue(\(name) from \(exchange) with \(routingKey))") { state, arena in
            amqp_queue_unbind(
                state, channel, arena.bytes(name), arena.bytes(exchange), arena.bytes(routingKey),
                arena.table(arguments))
        }
    }

    /// Returns the number of messages deleted with the queue.
    @discardableResult
    public func deleteQueue(name: String, ifUnused: Bool = false, ifEmpty: Bool = false) throws -> UInt32 {
        try rpc("deleteQueue(\(name))") { state, arena in
            amqp_queue_delete(state, channel, arena.bytes(name), ifUnused ? 1 : 0, ifEmpty ? 1 : 0)?.pointee
                .message_count ?? 0
        }
    }

    public func deleteExchange(name: String, ifUnused: Bool = false) throws {
        _ = try rpc("deleteExchange(\(name))") { state, arena in
            amqp_exchange_delete(state, channel, arena.bytes(name), ifUnused ? 1 : 0)
        }
    }

    /// Returns the number of messages purged.
    @discardableResult
    public func purgeQueue(name: String) throws -> UInt32 {
        try rpc("purgeQueue(\(name))") { state, arena in
            amqp_queue_purge(state, channel, arena.bytes(name))?.pointee.message_count ?? 0
        }
    }
}
