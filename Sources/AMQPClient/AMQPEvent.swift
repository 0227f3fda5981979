/// A message delivered to one of our consumers, copied out of librabbitmq's buffers.
public struct AMQPDelivery: Sendable, Equatable {
    /// Valid only on the connection (and `generation`) that received it: after a reconnect the
    /// broker has redelivered the message under a new tag, and acking the old tag would close the
    /// new channel.
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var consumerTag: String
    public var properties: AMQPProperties
    public var body: [UInt8]
    /// `AMQPConnection.generation` of the connection that received it.
    public var generation: UInt64
    /// Why the headers were not kept (`properties.headers` is then nil): they broke the connection's
    /// `headerLimits`. Never holds header content.
    public var headersDropped: String?

    public init(
        deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, consumerTag: String,
        properties: AMQPProperties, body: [UInt8], generation: UInt64 = 0, headersDropped: String? = nil
    ) {
        self.headersDropped = headersDropped
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.properties = properties
        self.body = body
        self.generation = generation
    }
}

/// A publisher confirm: the broker took responsibility (`ack`) or refused (`!ack`, a nack) for
/// `deliveryTag`, or for every sequence number up to it when `multiple`.
public struct AMQPConfirm: Sendable, Equatable, Hashable {
    public var deliveryTag: UInt64
    public var multiple: Bool
    public var ack: Bool

    public init(deliveryTag: UInt64, multiple: Bool, ack: Bool) {
        self.deliveryTag = deliveryTag
        self.multiple = multiple
        self.ack = ack
    }
}

/// A mandatory message the broker could not route (basic.return). In confirm mode its ack follows,
/// so an ack alone does not mean "queued": watch for returns too.
public struct AMQPReturnedMessage: Sendable, Equatable {
    public var replyCode: UInt16
    public var replyText: String
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(
        replyCode: UInt16, replyText: String, exchange: String, routingKey: String,
        properties: AMQPProperties, body: [UInt8]
    ) {
        self.replyCode = replyCode
        self.replyText = replyText
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }
}

/// What `AMQPConnection.nextEvent(timeout:)` can return.
public enum AMQPEvent: Sendable, Equatable {
    case delivery(AMQPDelivery)
    case confirm(AMQPConfirm)
    case returned(AMQPReturnedMessage)
    /// The broker cancelled our consumer (its queue was deleted, or a quorum queue moved): no more
    /// deliveries will come for this tag. Usually a reason to rebuild the topology.
    case consumerCancelled(consumerTag: String)
}
