import AMQPClient
import Foundation

/// The copies of a command the worker publishes: to the dead letters when it is parked, to a delay queue when
/// a payment waits for its registration. Both keep the message as it arrived (properties, headers, body) and
/// add the worker's `x-peduli-*` headers; a parked copy keeps its trace headers as they arrived (it is the
/// evidence), a retry copy carries them checked.
struct CommandCopies: Sendable {
    let topology: PipelineConfiguration.Topology
    /// The worker's own AMQP user: RabbitMQ only lets a publisher set its own `user_id`.
    let workerUser: String?

    /// The message with the reason headers, bound for `peduli.dead`. The original `user_id` travels in
    /// `x-peduli-user-id`: the validated publisher, absent when there was none (a forged header is dropped).
    /// The copy goes out under the worker's own validated `user_id`, so whoever reads the dead letters
    /// (`peduli-worker dead-letters`) can tell the worker's headers from forged ones, as the worker does for
    /// retry copies; `x-peduli-parked-at` is when it was parked (what `dead-letters purge --older-than` reads).
    func parked(_ c: InboundCommand.Context, reason: ParkReason, detail: String, at parkedAt: Date) -> OutboxMessage {
        var properties = c.delivery.properties
        var headers = properties.headers ?? AMQPTable()
        headers["x-peduli-reason"] = .string(reason.rawValue)
        headers["x-peduli-detail"] = .string(String(detail.prefix(200)))
        headers["x-peduli-queue"] = .string(c.queue)
        headers["x-peduli-user-id"] = c.publisher.map(AMQPFieldValue.string)
        headers["x-peduli-parked-at"] = .timestamp(UInt64(max(0, parkedAt.timeIntervalSince1970)))
        properties.headers = headers
        properties.userId = workerUser
        return OutboxMessage(
            exchange: topology.deadExchange, routingKey: c.delivery.routingKey, properties: properties,
            body: c.delivery.body)
    }

    /// A copy for a delayed-retry queue, under the worker's own validated user, carrying the next attempt
    /// number and the original publisher. Its trace headers are the checked context (`TraceContext`): an invalid
    /// `traceparent` is not passed on under the worker's name, an overlong `tracestate` is cut.
    func retry(_ c: InboundCommand.Context, queue: String) -> OutboxMessage {
        var properties = c.delivery.properties
        var headers = TraceContext.checked(properties.headers ?? AMQPTable())
        headers["x-peduli-attempt"] = .int32(Int32(c.attempt + 1))
        headers["x-peduli-user-id"] = c.publisher.map(AMQPFieldValue.string)
        properties.headers = headers
        properties.userId = workerUser
        return OutboxMessage(exchange: "", routingKey: queue, properties: properties, body: c.delivery.body)
    }
}
