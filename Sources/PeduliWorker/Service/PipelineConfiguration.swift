import PeduliPrivacy
import PeduliSettings

/// Everything the pipeline needs to know that is not a programme rule: names on the broker, tuning,
/// and the bounds that keep a stop graceful. The executable maps configuration keys onto this value;
/// a property that has a key takes its default from the configuration table (`ConfigurationKeys`,
/// key named on the property), parsed as the reader parses it, so that code which never sets it
/// behaves like an empty configuration. The others are internal bounds with no key.
public struct PipelineConfiguration: Sendable, Equatable {
    /// Broker object names (the `topology.*` keys).
    public struct Topology: Sendable, Equatable {
        public var inboundExchange = ConfigurationDefaults.string("topology.inbound_exchange")
        public var registrationsQueue = ConfigurationDefaults.string("topology.registrations_queue")
        public var registrationsRoutingKey = ConfigurationDefaults.string("topology.registrations_routing_key")
        public var paymentsQueue = ConfigurationDefaults.string("topology.payments_queue")
        public var paymentsRoutingKey = ConfigurationDefaults.string("topology.payments_routing_key")
        public var eventsExchange = ConfigurationDefaults.string("topology.events_exchange")
        public var deadExchange = ConfigurationDefaults.string("topology.dead_exchange")
        /// `topology.dead_queue`.
        public var deadLettersQueue = ConfigurationDefaults.string("topology.dead_queue")
        /// `topology.delivery_limit`: broker-side redelivery bound; a message that fails this many times is
        /// dead-lettered by RabbitMQ.
        public var deliveryLimit = ConfigurationDefaults.integer("topology.delivery_limit")
        /// `topology.retry_delays`: delays of the payment retries for an unknown registration, in order.
        public var retryDelays: [Duration] = ConfigurationDefaults.delays("topology.retry_delays")
        /// `topology.retry_queue_prefix`: retry queues are named `prefix.DELAY` (`peduli.payments.retry.10s`).
        public var retryQueuePrefix = ConfigurationDefaults.string("topology.retry_queue_prefix")

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
    /// `worker.prefetch`: unacknowledged deliveries the broker may push to this worker (per consumer).
    public var prefetch = ConfigurationDefaults.integer("worker.prefetch")
    /// `worker.batch_size`: deliveries decided in one database transaction.
    public var batchSize = ConfigurationDefaults.integer("worker.batch_size")
    /// `worker.batch_max_wait_ms`: how long a partly filled batch waits for more deliveries before it is
    /// decided anyway. 15 ms, not less:
    /// at 1,000 commands/s on two shared cores, 5 ms made batches of about 7 and kept the machine 84 % busy;
    /// 15 ms made batches of about 17 and 70 % busy, with the lower p99 in alternating runs (README).
    public var batchMaxWait: Duration = .milliseconds(ConfigurationDefaults.integer("worker.batch_max_wait_ms"))
    /// `worker.database_threads`: threads deciding batches, each with its own PostgreSQL session: one decides
    /// while another waits for the server.
    public var databaseThreads = ConfigurationDefaults.integer("worker.database_threads")
    /// Batches handed to the database before the consumer waits for their commit: one per thread and one
    /// being filled (the executable keeps this at `databaseThreads + 1`).
    public var maxBatchesInFlight = ConfigurationDefaults.integer("worker.database_threads") + 1
    /// `worker.drain_seconds`: bound on a graceful stop; finish, acknowledge and flush within this time,
    /// then exit anyway.
    public var drain: Duration = .seconds(ConfigurationDefaults.integer("worker.drain_seconds"))
    /// `worker.max_message_bytes`: bodies above this size are parked as `too_large` without being parsed.
    public var maxMessageBytes = ConfigurationDefaults.integer("worker.max_message_bytes")
    /// `security.allowed_publishers`: AMQP users whose commands are accepted; empty means no check.
    public var allowedPublishers = Set(ConfigurationDefaults.list("security.allowed_publishers"))
    /// `scheduler.interval_seconds`: how often the reminder scheduler runs a pass (and once at start-up).
    public var schedulerInterval: Duration = .seconds(ConfigurationDefaults.integer("scheduler.interval_seconds"))
    /// `privacy.retention_months`: a pass erases the personal data of memberships ended longer ago than this.
    public var retentionMonths = ConfigurationDefaults.integer("privacy.retention_months")
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
    /// The keys that protect personal data at rest (`security.data_keys_file`). Nil only where nothing reads or
    /// writes personal data; the worker service refuses to start without them.
    public var dataKeys: DataKeys?

    public init() {}
}
