internal import CRabbitMQ

extension AMQPConnection {
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
    public func publish(
        exchange: String, routingKey: String, body: [UInt8], properties: AMQPProperties = .init(),
        mandatory: Bool = false
    ) throws -> UInt64 {
        let state = try usableState("publish")
        // librabbitmq sends the method frame before it finds that the content header does not fit, which
        // leaves the channel mid-message: refuse such a message here, with the connection still whole.
        let frameMax = Int(amqp_get_frame_max(state))
        guard let headerFrame = AMQPWireSize.contentHeaderFrame(properties), frameMax == 0 || headerFrame <= frameMax
        else {
            throw AMQPError(
                code: .messageTooLarge, operation: "publish(\(exchange), \(routingKey))",
                endpoint: endpoint.redacted,
                detail: AMQPWireSize.contentHeaderFrame(properties).map {
                    "content header of \($0) bytes, frame_max \(frameMax)"
                } ?? "a short string property is over 255 bytes")
        }
        let arena = CArena()
        var cProperties = arena.properties(properties)
        let status = body.withUnsafeBytes { raw in
            amqp_basic_publish(
                state, channel, arena.bytes(exchange), arena.bytes(routingKey), mandatory ? 1 : 0, 0,
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
    public func waitForConfirms(
        upTo sequence: UInt64? = nil, timeout: Duration, progress: () -> Void = {}
    ) throws
        -> [UInt64]
    {
        guard confirmMode else {
            throw AMQPError(
                code: .invalidArgument, operation: "waitForConfirms", endpoint: endpoint.redacted,
                detail: "the channel is not in confirm mode (call confirmSelect first)")
        }
        let target = sequence ?? (confirms.nextSequence - 1)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !confirms.isSettled(upTo: target) {
            let left = deadline - clock.now
            if left <= .zero {
                throw AMQPError(
                    code: .timeout, operation: "waitForConfirms(\(target))", endpoint: endpoint.redacted,
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
}
