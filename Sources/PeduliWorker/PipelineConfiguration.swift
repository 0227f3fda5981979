/// Everything the pipeline needs to know that is not a programme rule: names on the broker, tuning,
/// and the bounds that keep a stop graceful. Defaults are CONTRACT.md's and OPERATIONS.md's; the
/// executable maps configuration keys onto this value.
public struct PipelineConfiguration: Sendable, Equatable {
    /// Broker object names (CONTRACT.md, "Broker topology").
    public struct Topology: Sendable, Equatable {
        public var inboundExchange = "peduli.inbound"
        public var registrationsQueue = "peduli.registrations"
        public var registrationsRoutingKey = "registration.submit"
        public var paymentsQueue = "peduli.payments"
        public var paymentsRoutingKey = "payment.submit"
        public var eventsExchange = "peduli.events"
        public var deadExchange = "peduli.dead"
        public var deadLettersQueue = "peduli.dead-letters"
        /// Broker-side redelivery bound: a message that fails this many times is dead-lettered by RabbitMQ.
        public var deliveryLimit = 5
        /// Delays of the payment retries for an unknown registration, in order (10 s, 1 min, 10 min, 1 h).
        public var retryDelays: [Duration] = [.seconds(10), .seconds(60), .seconds(600), .seconds(3600)]
        /// Retry queues are named `prefix.DELAY` (`peduli.payments.retry.10s`).
        public var retryQueuePrefix = "peduli.payments.retry"

        public init() {}

        /// The retry queue for a delay: one durable queue per delay whose messages expire back to the payments queue.
        public func retryQueue(for delay: Duration) -> String {
            "\(retryQueuePrefix).\(Self.label(delay))"
        }

        static func label(_ delay: Duration) -> String {
            let seconds = delay.components.seconds
            if delay.components.attoseconds != 0 { return "\(delay.milliseconds)ms" }
            if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
            if seconds % 60 == 0 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }
    }

    public var topology = Topology()
    /// Unacknowledged deliveries the broker may push to this worker (per consumer).
    public var prefetch = 400
    /// Deliveries decided in one database transaction.
    public var batchSize = 200
    /// How long a partly filled batch waits for more deliveries before it is decided anyway. 15 ms, not less:
    /// at 1,000 commands/s on two shared cores, 5 ms made batches of about 7 and kept the machine 84 % busy;
    /// 15 ms made batches of about 17 and 70 % busy, with the lower p99 in alternating runs (README).
    public var batchMaxWait: Duration = .milliseconds(15)
    /// Threads deciding batches, each with its own PostgreSQL session: one decides while another waits for
    /// the server.
    public var databaseThreads = 2
    /// Batches handed to the database before the consumer waits for their commit.
    public var maxBatchesInFlight = 3
    /// Bound on a graceful stop: finish, acknowledge and flush within this time, then exit anyway.
    public var drain: Duration = .seconds(20)
    /// Bodies above this size are parked as `too_large` without being parsed.
    public var maxMessageBytes = 65_536
    /// AMQP users whose commands are accepted; empty means no check (OPERATIONS.md `security.allowed_publishers`).
    public var allowedPublishers: Set<String> = []
    /// How often the reminder scheduler runs a pass (and once at start-up).
    public var schedulerInterval: Duration = .seconds(300)
    /// The outbox relay's safety-net poll when no NOTIFY arrives.
    public var outboxPollInterval: Duration = .seconds(1)
    /// Rows the relay publishes before it waits for their confirms.
    public var outboxBatchSize = 500
    /// ... and the bytes of their bodies: the relay stops adding rows once this many body bytes are in the
    /// batch (a row larger than this goes out alone). Parked messages carry the original body, up to
    /// `max_message_bytes` and beyond for `too_large` ones, so 500 rows could otherwise be tens of MB in the
    /// result, its copies and the frames at once. 1 MiB still fills a batch of ordinary events (about 1 KiB).
    public var outboxBatchBytes = 1 << 20
    /// Back-off and bound for rows the broker refuses.
    public var outboxRetry = OutboxRetryPolicy()
    /// The same bound for the consumer's batches: a batch closes once its bodies reach this many bytes, so
    /// a transaction holds (as hex parameters and outbox rows, about 4 copies) at most one oversized body
    /// or about 1 MiB of ordinary ones. Ordinary commands (about 1 KiB) fill `batch_size` first.
    public var batchBytes = 1 << 20
    /// The `app_id` on every event.
    public var appID = "peduli-worker"

    public init() {}
}
