internal import CRabbitMQ

extension AMQPConnection {
    static func libraryError(_ status: Int32, operation: String, endpoint: String?) -> AMQPError {
        let code: AMQPError.Code
        switch status {
        case AMQP_STATUS_TIMEOUT.rawValue: code = .timeout
        case AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue: code = .heartbeatTimeout
        case AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue,
            AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue,
            AMQP_STATUS_SSL_SET_ENGINE_FAILED.rawValue:
            code = .tls
        case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue: code = .connectionFailed
        case AMQP_STATUS_BAD_AMQP_DATA.rawValue, AMQP_STATUS_UNKNOWN_CLASS.rawValue,
            AMQP_STATUS_UNKNOWN_METHOD.rawValue, AMQP_STATUS_UNEXPECTED_STATE.rawValue,
            AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION.rawValue, AMQP_STATUS_WRONG_METHOD.rawValue:
            code = .protocolError
        case AMQP_STATUS_TABLE_TOO_BIG.rawValue, AMQP_STATUS_INVALID_PARAMETER.rawValue: code = .invalidArgument
        default: code = .socketError
        }
        return AMQPError(
            code: code, operation: operation, endpoint: endpoint,
            libraryStatus: String(cString: amqp_error_string2(status)))
    }

    static func brokerCode(_ replyCode: UInt16, channelLevel: Bool) -> AMQPError.Code {
        guard channelLevel else { return .connectionClosedByServer }
        switch replyCode {
        case 403: return .accessRefused
        case 404: return .notFound
        case 405: return .resourceLocked
        case 406: return .preconditionFailed
        default: return .channelClosedByServer
        }
    }

    /// Turns an RPC reply into an error (nil when normal). Replies close-ok to a broker close,
    /// because librabbitmq never does.
    static func replyError(
        _ reply: amqp_rpc_reply_t, state: amqp_connection_state_t, operation: String,
        endpoint: String, channel: amqp_channel_t
    ) -> AMQPError? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_NONE:
            return AMQPError(
                code: .protocolError, operation: operation, endpoint: endpoint, detail: "missing RPC reply")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return libraryError(reply.library_error, operation: operation, endpoint: endpoint)
        default:
            return serverClose(
                method: reply.reply, state: state, operation: operation, endpoint: endpoint, channel: channel)
        }
    }

    static func serverClose(
        method: amqp_method_t, state: amqp_connection_state_t, operation: String,
        endpoint: String, channel: amqp_channel_t
    ) -> AMQPError {
        switch method.id {
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            return AMQPError(
                code: brokerCode(close.reply_code, channelLevel: true), operation: operation, endpoint: endpoint,
                replyCode: close.reply_code, replyText: CDecode.string(close.reply_text))
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            return AMQPError(
                code: .connectionClosedByServer, operation: operation, endpoint: endpoint,
                replyCode: close.reply_code, replyText: CDecode.string(close.reply_text))
        default:
            return AMQPError(
                code: .protocolError, operation: operation, endpoint: endpoint,
                detail: "unexpected method 0x\(String(method.id, radix: 16))")
        }
    }
}
