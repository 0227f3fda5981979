internal import CRabbitMQ

extension AMQPConnection {
    /// The next delivery, confirm, return or broker cancel; nil when nothing came within
    /// `timeout` (the idle path: do housekeeping, then call again soon so heartbeats flow).
    /// Throws when the channel or connection is gone.
    public func nextEvent(timeout: Duration) throws -> AMQPEvent? {
        if pendingHead < pending.count {
            let event = pending[pendingHead]
            pendingHead += 1
            if pendingHead == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingHead = 0
            }
            return event
        }
        return try readEvent(timeout: timeout)
    }

    func readEvent(timeout: Duration) throws -> AMQPEvent? {
        let state = try usableState("nextEvent")
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var wait = timeout.timeval
        let reply = amqp_consume_message(state, &envelope, &wait, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            let (properties, dropped) = CDecode.properties(
                envelope.message.properties, limits: configuration.headerLimits)
            let delivery = AMQPDelivery(
                deliveryTag: envelope.delivery_tag, redelivered: envelope.redelivered != 0,
                exchange: CDecode.string(envelope.exchange), routingKey: CDecode.string(envelope.routing_key),
                consumerTag: CDecode.string(envelope.consumer_tag), properties: properties,
                body: CDecode.bytes(envelope.message.body), generation: generation, headersDropped: dropped)
            amqp_destroy_envelope(&envelope)
            return .delivery(delivery)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            return try readOtherFrame(state)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw note(Self.libraryError(reply.library_error, operation: "nextEvent", endpoint: endpoint.redacted))
        default:
            throw note(
                Self.serverClose(
                    method: reply.reply, state: state, operation: "nextEvent",
                    endpoint: endpoint.redacted, channel: channel))
        }
    }

    /// A frame that is not a delivery is waiting (amqp_consume_message put it back).
    func readOtherFrame(_ state: amqp_connection_state_t) throws -> AMQPEvent? {
        var frame = amqp_frame_t()
        var wait = configuration.rpcTimeout.timeval
        let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
        guard status == AMQP_STATUS_OK.rawValue else {
            var error = Self.libraryError(status, operation: "nextEvent", endpoint: endpoint.redacted)
            if error.code == .timeout { error.code = .protocolError }
            throw note(error)
        }
        // Content frames without a method (left over from an aborted message) carry nothing for us.
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return nil }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_ACK_METHOD:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return confirmEvent(AMQPConfirm(deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0, ack: true))
        case AMQP_BASIC_NACK_METHOD:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return confirmEvent(AMQPConfirm(deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0, ack: false))
        case AMQP_BASIC_RETURN_METHOD:
            let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let replyCode = ret.reply_code
            let replyText = CDecode.string(ret.reply_text)
            let exchange = CDecode.string(ret.exchange)
            let routingKey = CDecode.string(ret.routing_key)
            var message = amqp_message_t()
            let reply = amqp_read_message(state, frame.channel, &message, 0)
            if let error = Self.replyError(
                reply, state: state, operation: "nextEvent(basic.return)",
                endpoint: endpoint.redacted, channel: channel)
            {
                throw note(error)
            }
            let returned = AMQPReturnedMessage(
                replyCode: replyCode, replyText: replyText, exchange: exchange,
                routingKey: routingKey,
                properties: CDecode.properties(message.properties, limits: configuration.headerLimits).0,
                body: CDecode.bytes(message.body))
            amqp_destroy_message(&message)
            return .returned(returned)
        case AMQP_BASIC_CANCEL_METHOD:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(consumerTag: CDecode.string(cancel.consumer_tag))
        case AMQP_CHANNEL_CLOSE_METHOD, AMQP_CONNECTION_CLOSE_METHOD:
            throw note(
                Self.serverClose(
                    method: method, state: state, operation: "nextEvent",
                    endpoint: endpoint.redacted, channel: frame.channel))
        default:
            // connection.blocked/unblocked (not advertised), stray *-ok replies: nothing to do.
            return nil
        }
    }

    func confirmEvent(_ confirm: AMQPConfirm) -> AMQPEvent {
        if confirmMode {
            let settlement = confirms.handle(confirm)
            if !settlement.ack { nacked.formUnion(settlement.sequences) }
        }
        return .confirm(confirm)
    }
}
