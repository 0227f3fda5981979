import CRabbitMQ

/// One AMQP connection with one channel (channel 1), over librabbitmq.
///
/// Threading contract: librabbitmq is not thread-safe and every call blocks, so an
/// `AMQPConnection` is deliberately not `Sendable`. Create it on a thread you own (a Foundation
/// `Thread`, never a Swift concurrency task: the cooperative pool is tiny and blocking it stalls the
/// whole process) and make every call from that thread. Heartbeats are only serviced while that
/// thread is inside one of these calls, so keep calling `nextEvent(timeout:)` with a short timeout
/// and never do long work in between. Publish and consume on separate connections: flow control
/// on a publishing connection also holds back acks.
///
/// There is no automatic recovery: after an error whose `requiresReconnect` is true, `close()`
/// this connection and open a new one (see `AMQPReconnectingConnection`). Delivery tags die with
/// the connection.
public final class AMQPConnection {
    public let configuration: AMQPConfiguration
    /// The node we are connected to, and its index in `configuration.endpoints`.
    public let endpoint: AMQPEndpoint
    public let endpointIndex: Int
    /// Counts connections made by one `AMQPReconnectingConnection`; copied into each delivery so
    /// stale delivery tags can be recognised.
    public let generation: UInt64

    private var state: amqp_connection_state_t?
    private let channel: amqp_channel_t = 1
    private var channelOpen = false
    /// Set after a connection-level failure: the only remaining operation is destroying the state.
    private var broken = false
    private var confirmMode = false
    private var confirms = ConfirmTracker()
    /// Nacked sequence numbers not yet reported by `waitForConfirms`.
    private var nacked: Set<UInt64> = []
    /// Events read while waiting for something else (confirms); handed out first by `nextEvent`.
    private var pending: [AMQPEvent] = []
    private var pendingHead = 0

    /// Connects to the first node that answers, trying `configuration.endpoints` in order from
    /// `startIndex` (wrapping around), logs in and opens channel 1. `beforeEachNode` runs before each node is
    /// tried (each try may block up to `connectTimeout`): a caller reports liveness there.
    public init(configuration: AMQPConfiguration, startIndex: Int = 0, generation: UInt64 = 0,
                beforeEachNode: () -> Void = {}) throws {
        guard !configuration.endpoints.isEmpty else {
            throw AMQPError(code: .invalidArgument, operation: "connect", detail: "no endpoints configured")
        }
        self.configuration = configuration
        self.generation = generation
        let count = configuration.endpoints.count
        var failures: [AMQPError] = []
        for step in 0..<count {
            let index = ((startIndex % count) + count + step) % count
            let endpoint = configuration.endpoints[index]
            beforeEachNode()
            do {
                let state = try Self.open(endpoint: endpoint, configuration: configuration)
                self.state = state
                self.endpoint = endpoint
                self.endpointIndex = index
                self.channelOpen = true
                return
            } catch let error as AMQPError {
                // Configuration errors are the same on every node: stop at once.
                if error.code == .invalidArgument { throw error }
                failures.append(error)
            }
        }
        var error = failures.last!
        if count > 1 {
            error.detail = "all \(count) nodes failed; first: \(failures[0]); last: " + (error.detail ?? error.code.rawValue)
        }
        throw error
    }

    deinit {
        if let state { amqp_destroy_connection(state) }
    }

    /// True until `close()` or a connection-level failure.
    public var isOpen: Bool { state != nil && !broken }

    // MARK: - Connecting

    private static func open(endpoint: AMQPEndpoint, configuration: AMQPConfiguration) throws -> amqp_connection_state_t {
        let where_ = endpoint.redacted
        guard let state = amqp_new_connection() else {
            throw AMQPError(code: .connectionFailed, operation: "connect", endpoint: where_, detail: "out of memory")
        }
        var success = false
        defer { if !success { amqp_destroy_connection(state) } }
        let arena = CArena()

        let socket: OpaquePointer?
        if endpoint.useTLS {
            socket = amqp_ssl_socket_new(state)
            guard let socket else {
                throw AMQPError(code: .tls, operation: "connect", endpoint: where_, detail: "cannot create a TLS socket")
            }
            try configureTLS(socket: socket, options: configuration.tls, arena: arena, endpoint: where_)
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else {
            throw AMQPError(code: .connectionFailed, operation: "connect", endpoint: where_, detail: "cannot create a socket")
        }
        var connectTimeout = configuration.connectTimeout.timeval
        let status = amqp_socket_open_noblock(socket, arena.cString(endpoint.host), Int32(endpoint.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            var error = libraryError(status, operation: "connect", endpoint: where_)
            if error.code != .tls { error.code = .connectionFailed }
            throw error
        }
        var handshakeTimeout = configuration.connectTimeout.timeval
        _ = amqp_set_handshake_timeout(state, &handshakeTimeout)
        var rpcTimeout = configuration.rpcTimeout.timeval
        _ = amqp_set_rpc_timeout(state, &rpcTimeout)

        let capabilities: AMQPTable = [
            "consumer_cancel_notify": .bool(true),
            "publisher_confirms": .bool(true),
            "basic.nack": .bool(true),
            "exchange_exchange_bindings": .bool(true),
            "authentication_failure_close": .bool(true),
        ]
        let clientProperties: AMQPTable = [
            "connection_name": .string(configuration.connectionName),
            "product": .string(configuration.product),
            "platform": .string("Swift"),
            "information": .string("librabbitmq \(String(cString: amqp_version()))"),
            "capabilities": .table(capabilities),
        ]
        var properties = arena.table(clientProperties)
        let heartbeat = Int32(clamping: max(0, min(configuration.heartbeatSeconds, Int(UInt16.max))))
        let login = peduli_amqp_login_plain(state, arena.cString(endpoint.vhost), 0, Int32(clamping: configuration.frameMax),
                                            heartbeat, &properties, arena.cString(endpoint.user),
                                            arena.cString(endpoint.password))
        withExtendedLifetime(arena) {}
        if let error = replyError(login, state: state, operation: "login", endpoint: where_, channel: 0) {
            var error = error
            // RabbitMQ answers bad credentials with connection.close 403 (authentication_failure_close)
            // and an inaccessible vhost with 530; older brokers just drop the socket.
            if error.replyCode == 403 || error.replyCode == 530 || error.code == .socketError {
                error.code = .authenticationFailed
                error.detail = "check the user name, password and vhost permissions"
            }
            throw error
        }
        amqp_channel_open(state, 1)
        if let error = replyError(amqp_get_rpc_reply(state), state: state, operation: "channel.open", endpoint: where_, channel: 1) {
            throw error
        }
        success = true
        return state
    }

    private static func configureTLS(socket: OpaquePointer, options: AMQPTLSOptions, arena: CArena, endpoint: String) throws {
        func check(_ status: Int32, _ what: String) throws {
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(code: .tls, operation: "connect", endpoint: endpoint,
                                libraryStatus: String(cString: amqp_error_string2(status)), detail: what)
            }
        }
        if options.verifyPeer && options.caFile == nil {
            throw AMQPError(code: .invalidArgument, operation: "connect", endpoint: endpoint,
                            detail: "TLS peer verification needs a CA file (librabbitmq 0.11 loads no system CAs)")
        }
        if (options.certificateFile == nil) != (options.keyFile == nil) {
            throw AMQPError(code: .invalidArgument, operation: "connect", endpoint: endpoint,
                            detail: "a TLS client certificate needs both the certificate and the key file")
        }
        try check(amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2, AMQP_TLSvLATEST), "set TLS 1.2 minimum")
        if let ca = options.caFile {
            try check(amqp_ssl_socket_set_cacert(socket, arena.cString(ca)), "load CA file")
        }
        if let cert = options.certificateFile, let key = options.keyFile {
            try check(amqp_ssl_socket_set_key(socket, arena.cString(cert), arena.cString(key)), "load client certificate/key")
        }
        amqp_ssl_socket_set_verify_peer(socket, options.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, options.verifyHostname ? 1 : 0)
    }

    // MARK: - Error mapping

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
        return AMQPError(code: code, operation: operation, endpoint: endpoint,
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
    private static func replyError(_ reply: amqp_rpc_reply_t, state: amqp_connection_state_t, operation: String,
                                   endpoint: String, channel: amqp_channel_t) -> AMQPError? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_NONE:
            return AMQPError(code: .protocolError, operation: operation, endpoint: endpoint, detail: "missing RPC reply")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return libraryError(reply.library_error, operation: operation, endpoint: endpoint)
        default:
            return serverClose(method: reply.reply, state: state, operation: operation, endpoint: endpoint, channel: channel)
        }
    }

    private static func serverClose(method: amqp_method_t, state: amqp_connection_state_t, operation: String,
                                    endpoint: String, channel: amqp_channel_t) -> AMQPError {
        switch method.id {
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            return AMQPError(code: brokerCode(close.reply_code, channelLevel: true), operation: operation, endpoint: endpoint,
                             replyCode: close.reply_code, replyText: CDecode.string(close.reply_text))
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            return AMQPError(code: .connectionClosedByServer, operation: operation, endpoint: endpoint,
                             replyCode: close.reply_code, replyText: CDecode.string(close.reply_text))
        default:
            return AMQPError(code: .protocolError, operation: operation, endpoint: endpoint,
                             detail: "unexpected method 0x\(String(method.id, radix: 16))")
        }
    }

    /// Records what an error did to the connection, then returns it for throwing.
    private func note(_ error: AMQPError) -> AMQPError {
        if error.isConnectionLost { broken = true }
        if error.requiresReconnect { channelOpen = false }
        return error
    }

    private func usableState(_ operation: @autoclosure () -> String) throws -> amqp_connection_state_t {
        guard let state, !broken else {
            throw AMQPError(code: .connectionClosed, operation: operation(), endpoint: endpoint.redacted,
                            detail: "the connection is closed; open a new one")
        }
        guard channelOpen else {
            throw AMQPError(code: .channelClosedByServer, operation: operation(), endpoint: endpoint.redacted,
                            detail: "the channel was closed by the broker earlier; reopen it or reconnect")
        }
        return state
    }

    /// Runs one synchronous method and checks its reply.
    private func rpc<T>(_ operation: String, _ call: (amqp_connection_state_t, CArena) -> T) throws -> T {
        let state = try usableState(operation)
        amqp_maybe_release_buffers(state)
        let arena = CArena()
        let result = withExtendedLifetime(arena) { call(state, arena) }
        if let error = Self.replyError(amqp_get_rpc_reply(state), state: state, operation: operation,
                                       endpoint: endpoint.redacted, channel: channel) {
            throw note(error)
        }
        return result
    }

    /// Checks the status of an asynchronous method (ack, publish, ...).
    private func checkStatus(_ status: Int32, _ operation: @autoclosure () -> String) throws {
        guard status == AMQP_STATUS_OK.rawValue else {
            throw note(Self.libraryError(status, operation: operation(), endpoint: endpoint.redacted))
        }
    }

    // MARK: - Topology

    public func declareExchange(name: String, type: String, durable: Bool = true, autoDelete: Bool = false,
                                isInternal: Bool = false, arguments: AMQPTable = [:], passive: Bool = false) throws {
        _ = try rpc("declareExchange(\(name))") { state, arena in
            amqp_exchange_declare(state, channel, arena.bytes(name), arena.bytes(type), passive ? 1 : 0, durable ? 1 : 0,
                                  autoDelete ? 1 : 0, isInternal ? 1 : 0, arena.table(arguments))
        }
    }

    /// Declares (or with `passive`, checks) a queue. An existing queue with other arguments makes the
    /// broker answer 406 PRECONDITION_FAILED naming the queue and argument, and close the channel.
    @discardableResult
    public func declareQueue(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                             arguments: AMQPTable = [:], passive: Bool = false)
        throws -> (queue: String, messageCount: UInt32, consumerCount: UInt32)
    {
        try rpc("declareQueue(\(name))") { state, arena in
            let ok = amqp_queue_declare(state, channel, arena.bytes(name), passive ? 1 : 0, durable ? 1 : 0,
                                        exclusive ? 1 : 0, autoDelete ? 1 : 0, arena.table(arguments))
            guard let ok else { return (name, 0, 0) }
            return (CDecode.string(ok.pointee.queue), ok.pointee.message_count, ok.pointee.consumer_count)
        }
    }

    public func bindQueue(name: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) throws {
        _ = try rpc("bindQueue(\(name) to \(exchange) with \(routingKey))") { state, arena in
            amqp_queue_bind(state, channel, arena.bytes(name), arena.bytes(exchange), arena.bytes(routingKey),
                            arena.table(arguments))
        }
    }

    public func unbindQueue(name: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) throws {
        _ = try rpc("unbindQueue(\(name) from \(exchange) with \(routingKey))") { state, arena in
            amqp_queue_unbind(state, channel, arena.bytes(name), arena.bytes(exchange), arena.bytes(routingKey),
                              arena.table(arguments))
        }
    }

    /// Returns the number of messages deleted with the queue.
    @discardableResult
    public func deleteQueue(name: String, ifUnused: Bool = false, ifEmpty: Bool = false) throws -> UInt32 {
        try rpc("deleteQueue(\(name))") { state, arena in
            amqp_queue_delete(state, channel, arena.bytes(name), ifUnused ? 1 : 0, ifEmpty ? 1 : 0)?.pointee.message_count ?? 0
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

    // MARK: - Consuming

    /// Per-consumer (`global: false`) is what quorum queues require.
    public func qos(prefetchCount: UInt16, global: Bool = false) throws {
        _ = try rpc("qos(\(prefetchCount))") { state, _ in
            amqp_basic_qos(state, channel, 0, prefetchCount, global ? 1 : 0)
        }
    }

    /// Starts a consumer and returns its tag (the broker's when `consumerTag` is empty).
    @discardableResult
    public func consume(queue: String, consumerTag: String = "", noAck: Bool = false, exclusive: Bool = false,
                        arguments: AMQPTable = [:]) throws -> String {
        try rpc("consume(\(queue))") { state, arena in
            let ok = amqp_basic_consume(state, channel, arena.bytes(queue), arena.bytes(consumerTag), 0, noAck ? 1 : 0,
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
        try checkStatus(amqp_basic_nack(state, channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0),
                        "nack(\(deliveryTag))")
    }

    public func reject(deliveryTag: UInt64, requeue: Bool) throws {
        let state = try usableState("reject")
        try checkStatus(amqp_basic_reject(state, channel, deliveryTag, requeue ? 1 : 0), "reject(\(deliveryTag))")
    }

    // MARK: - Publishing

    /// Puts the channel in confirm mode: every later publish gets a sequence number (from 1) that
    /// the broker acks or nacks.
    public func confirmSelect() throws {
        _ = try rpc("confirmSelect") { state, _ in amqp_confirm_select(state, channel) }
        if !confirmMode {
            confirmMode = true
            confirms = ConfirmTracker()
            nacked = []
        }
    }

    public var isConfirmMode: Bool { confirmMode }
    /// Published, not yet confirmed (confirm mode only).
    public var unconfirmedCount: Int { confirms.outstandingCount }

    /// Publishes one message. Returns its publisher sequence number in confirm mode, else 0.
    /// With `mandatory`, an unroutable message comes back as `.returned` (before its confirm).
    @discardableResult
    public func publish(exchange: String, routingKey: String, body: [UInt8], properties: AMQPProperties = .init(),
                        mandatory: Bool = false) throws -> UInt64 {
        let state = try usableState("publish")
        // librabbitmq sends the method frame before it finds that the content header does not fit, which
        // leaves the channel mid-message: refuse such a message here, with the connection still whole.
        let frameMax = Int(amqp_get_frame_max(state))
        guard let headerFrame = AMQPWireSize.contentHeaderFrame(properties), frameMax == 0 || headerFrame <= frameMax else {
            throw AMQPError(code: .messageTooLarge, operation: "publish(\(exchange), \(routingKey))",
                            endpoint: endpoint.redacted,
                            detail: AMQPWireSize.contentHeaderFrame(properties).map {
                                "content header of \($0) bytes, frame_max \(frameMax)"
                            } ?? "a short string property is over 255 bytes")
        }
        let arena = CArena()
        var cProperties = arena.properties(properties)
        let status = body.withUnsafeBytes { raw in
            amqp_basic_publish(state, channel, arena.bytes(exchange), arena.bytes(routingKey), mandatory ? 1 : 0, 0,
                               &cProperties, amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
        }
        withExtendedLifetime(arena) {}
        try checkStatus(status, "publish(\(exchange), \(routingKey))")
        return confirmMode ? confirms.recordPublish() : 0
    }

    /// Reads events until every publish up to `sequence` is confirmed, and returns the sequence
    /// numbers among them that were nacked (not yet reported by an earlier call). Other events read
    /// meanwhile are kept for `nextEvent`. Throws `.timeout` (connection still usable) when the
    /// broker has not answered in time. `progress` runs every 200 ms or so while waiting (liveness reports).
    public func waitForConfirms(upTo sequence: UInt64? = nil, timeout: Duration, progress: () -> Void = {}) throws
        -> [UInt64]
    {
        guard confirmMode else {
            throw AMQPError(code: .invalidArgument, operation: "waitForConfirms", endpoint: endpoint.redacted,
                            detail: "the channel is not in confirm mode (call confirmSelect first)")
        }
        let target = sequence ?? (confirms.nextSequence - 1)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !confirms.isSettled(upTo: target) {
            let left = deadline - clock.now
            if left <= .zero {
                throw AMQPError(code: .timeout, operation: "waitForConfirms(\(target))", endpoint: endpoint.redacted,
                                detail: "\(confirms.outstandingCount) publishes still unconfirmed")
            }
            progress()
            if let event = try readEvent(timeout: min(left, .milliseconds(200))) {
                if case .confirm = event { continue }
                pending.append(event)
            }
        }
        let reported = nacked.filter { $0 <= target }.sorted()
        nacked.subtract(reported)
        return reported
    }

    // MARK: - Events

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

    private func readEvent(timeout: Duration) throws -> AMQPEvent? {
        let state = try usableState("nextEvent")
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var wait = timeout.timeval
        let reply = amqp_consume_message(state, &envelope, &wait, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            let (properties, dropped) = CDecode.properties(envelope.message.properties, limits: configuration.headerLimits)
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
            throw note(Self.serverClose(method: reply.reply, state: state, operation: "nextEvent",
                                        endpoint: endpoint.redacted, channel: channel))
        }
    }

    /// A frame that is not a delivery is waiting (amqp_consume_message put it back).
    private func readOtherFrame(_ state: amqp_connection_state_t) throws -> AMQPEvent? {
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
            if let error = Self.replyError(reply, state: state, operation: "nextEvent(basic.return)",
                                           endpoint: endpoint.redacted, channel: channel) {
                throw note(error)
            }
            let returned = AMQPReturnedMessage(replyCode: replyCode, replyText: replyText, exchange: exchange,
                                               routingKey: routingKey,
                                               properties: CDecode.properties(message.properties, limits: configuration.headerLimits).0,
                                               body: CDecode.bytes(message.body))
            amqp_destroy_message(&message)
            return .returned(returned)
        case AMQP_BASIC_CANCEL_METHOD:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(consumerTag: CDecode.string(cancel.consumer_tag))
        case AMQP_CHANNEL_CLOSE_METHOD, AMQP_CONNECTION_CLOSE_METHOD:
            throw note(Self.serverClose(method: method, state: state, operation: "nextEvent",
                                        endpoint: endpoint.redacted, channel: frame.channel))
        default:
            // connection.blocked/unblocked (not advertised), stray *-ok replies: nothing to do.
            return nil
        }
    }

    private func confirmEvent(_ confirm: AMQPConfirm) -> AMQPEvent {
        if confirmMode {
            let settlement = confirms.handle(confirm)
            if !settlement.ack { nacked.formUnion(settlement.sequences) }
        }
        return .confirm(confirm)
    }

    // MARK: - Closing

    /// Opens channel 1 again after the broker closed it (e.g. after a failed passive declare).
    /// Confirm mode, QoS and consumers are not restored.
    public func reopenChannel() throws {
        guard let state, !broken else {
            throw AMQPError(code: .connectionClosed, operation: "reopenChannel", endpoint: endpoint.redacted)
        }
        guard !channelOpen else { return }
        amqp_maybe_release_buffers(state)
        amqp_channel_open(state, channel)
        if let error = Self.replyError(amqp_get_rpc_reply(state), state: state, operation: "reopenChannel",
                                       endpoint: endpoint.redacted, channel: channel) {
            throw note(error)
        }
        channelOpen = true
        confirmMode = false
        confirms = ConfirmTracker()
        nacked = []
    }

    /// Closes channel and connection politely when the socket still works, then frees everything.
    /// Never throws: on a dead socket there is nobody left to tell.
    public func close() {
        guard let state else { return }
        if !broken {
            if channelOpen { _ = amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS) }
            _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        amqp_destroy_connection(state)
        self.state = nil
        broken = true
        channelOpen = false
    }
}
