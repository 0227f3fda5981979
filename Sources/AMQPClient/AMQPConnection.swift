internal import CRabbitMQ

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

    var state: amqp_connection_state_t?
    let channel: amqp_channel_t = 1
    var channelOpen = false
    /// Set after a connection-level failure: the only remaining operation is destroying the state.
    var broken = false
    var confirmMode = false
    var confirms = ConfirmTracker()
    /// Nacked sequence numbers not yet reported by `waitForConfirms`.
    var nacked: Set<UInt64> = []
    /// Events read while waiting for something else (confirms); handed out first by `nextEvent`.
    var pending: [AMQPEvent] = []
    var pendingHead = 0

    /// Connects to the first node that answers, trying `configuration.endpoints` in order from
    /// `startIndex` (wrapping around), logs in and opens channel 1. `beforeEachNode` runs before each node is
    /// tried (each try may block up to `connectTimeout`): a caller reports liveness there.
    public init(
        configuration: AMQPConfiguration, startIndex: Int = 0, generation: UInt64 = 0,
        beforeEachNode: () -> Void = {}
    ) throws {
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
            error.detail =
                "all \(count) nodes failed; first: \(failures[0]); last: " + (error.detail ?? error.code.rawValue)
        }
        throw error
    }

    deinit {
        if let state { amqp_destroy_connection(state) }
    }

    /// True until `close()` or a connection-level failure.
    public var isOpen: Bool { state != nil && !broken }

    // MARK: - Connecting

    static func open(endpoint: AMQPEndpoint, configuration: AMQPConfiguration) throws -> amqp_connection_state_t {
        let redactedEndpoint = endpoint.redacted
        guard let state = amqp_new_connection() else {
            throw AMQPError(
                code: .connectionFailed, operation: "connect", endpoint: redactedEndpoint, detail: "out of memory")
        }
        var success = false
        defer { if !success { amqp_destroy_connection(state) } }
        let arena = CArena()

        let socket: OpaquePointer?
        if endpoint.useTLS {
            socket = amqp_ssl_socket_new(state)
            guard let socket else {
                throw AMQPError(
                    code: .tls, operation: "connect", endpoint: redactedEndpoint, detail: "cannot create a TLS socket")
            }
            try configureTLS(socket: socket, options: configuration.tls, arena: arena, endpoint: redactedEndpoint)
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else {
            throw AMQPError(
                code: .connectionFailed, operation: "connect", endpoint: redactedEndpoint,
                detail: "cannot create a socket")
        }
        let timeout = endpoint.options.connectTimeout ?? configuration.connectTimeout
        var connectTimeout = timeout.timeval
        let status = amqp_socket_open_noblock(
            socket, arena.cString(endpoint.host), Int32(endpoint.port), &connectTimeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            var error = libraryError(status, operation: "connect", endpoint: redactedEndpoint)
            if error.code != .tls { error.code = .connectionFailed }
            throw error
        }
        var handshakeTimeout = timeout.timeval
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
            "version": .string(configuration.version),
            "platform": .string("Swift"),
            "information": .string("librabbitmq \(String(cString: amqp_version()))"),
            "capabilities": .table(capabilities),
        ]
        var properties = arena.table(clientProperties)
        // The URL's own parameters (`?heartbeat=10`) win over the configuration's for that node.
        let heartbeatSeconds = endpoint.options.heartbeatSeconds ?? configuration.heartbeatSeconds
        let heartbeat = Int32(clamping: max(0, min(heartbeatSeconds, Int(UInt16.max))))
        let login = peduli_amqp_login_plain(
            state, arena.cString(endpoint.vhost), Int32(clamping: endpoint.options.channelMax ?? 0),
            Int32(clamping: endpoint.options.frameMax ?? configuration.frameMax),
            heartbeat, &properties, arena.cString(endpoint.user),
            arena.cString(endpoint.password))
        withExtendedLifetime(arena) {}
        if let error = replyError(login, state: state, operation: "login", endpoint: redactedEndpoint, channel: 0) {
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
        if let error = replyError(
            amqp_get_rpc_reply(state), state: state, operation: "channel.open", endpoint: redactedEndpoint, channel: 1)
        {
            throw error
        }
        success = true
        return state
    }

    static func configureTLS(socket: OpaquePointer, options: AMQPTLSOptions, arena: CArena, endpoint: String) throws {
        func check(_ status: Int32, _ what: String) throws {
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(
                    code: .tls, operation: "connect", endpoint: endpoint,
                    libraryStatus: String(cString: amqp_error_string2(status)), detail: what)
            }
        }
        if options.verifyPeer && options.caFile == nil {
            throw AMQPError(
                code: .invalidArgument, operation: "connect", endpoint: endpoint,
                detail: "TLS peer verification needs a CA file (librabbitmq 0.11 loads no system CAs)")
        }
        if (options.certificateFile == nil) != (options.keyFile == nil) {
            throw AMQPError(
                code: .invalidArgument, operation: "connect", endpoint: endpoint,
                detail: "a TLS client certificate needs both the certificate and the key file")
        }
        try check(amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2, AMQP_TLSvLATEST), "set TLS 1.2 minimum")
        if let ca = options.caFile {
            try check(amqp_ssl_socket_set_cacert(socket, arena.cString(ca)), "load CA file")
        }
        if let cert = options.certificateFile, let key = options.keyFile {
            try check(
                amqp_ssl_socket_set_key(socket, arena.cString(cert), arena.cString(key)), "load client certificate/key")
        }
        amqp_ssl_socket_set_verify_peer(socket, options.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, options.verifyHostname ? 1 : 0)
    }

    // MARK: - Calls

    /// Records what an error did to the connection, then returns it for throwing.
    func note(_ error: AMQPError) -> AMQPError {
        if error.isConnectionLost { broken = true }
        if error.requiresReconnect { channelOpen = false }
        return error
    }

    func usableState(_ operation: @autoclosure () -> String) throws -> amqp_connection_state_t {
        guard let state, !broken else {
            throw AMQPError(
                code: .connectionClosed, operation: operation(), endpoint: endpoint.redacted,
                detail: "the connection is closed; open a new one")
        }
        guard channelOpen else {
            throw AMQPError(
                code: .channelClosedByServer, operation: operation(), endpoint: endpoint.redacted,
                detail: "the channel was closed by the broker earlier; reopen it or reconnect")
        }
        return state
    }

    /// Runs one synchronous method and checks its reply.
    func rpc<T>(_ operation: String, _ call: (amqp_connection_state_t, CArena) -> T) throws -> T {
        let state = try usableState(operation)
        amqp_maybe_release_buffers(state)
        let arena = CArena()
        let result = withExtendedLifetime(arena) { call(state, arena) }
        if let error = Self.replyError(
            amqp_get_rpc_reply(state), state: state, operation: operation,
            endpoint: endpoint.redacted, channel: channel)
        {
            throw note(error)
        }
        return result
    }

    /// Checks the status of an asynchronous method (ack, publish, ...).
    func checkStatus(_ status: Int32, _ operation: @autoclosure () -> String) throws {
        guard status == AMQP_STATUS_OK.rawValue else {
            throw note(Self.libraryError(status, operation: operation(), endpoint: endpoint.redacted))
        }
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
        if let error = Self.replyError(
            amqp_get_rpc_reply(state), state: state, operation: "reopenChannel",
            endpoint: endpoint.redacted, channel: channel)
        {
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
