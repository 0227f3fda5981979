/// The table of every configuration key: the single place a setting's name, default, accepted
/// values and meaning are written. The loader rejects any other key in a file, the environment
/// names are derived from it, `check-config` prints it, the example file
/// `config/peduli-worker.example.yaml` is rendered from it (a test keeps the two identical), and
/// the defaults of `PipelineConfiguration` and `ProgrammeConfiguration` are parsed from it.
///
/// Where the operations docs state a default (docs/operations.md, docs/rules.md) the table states
/// the same; ranges are the widest values the worker is known to handle.
public enum ConfigurationKeys {
    /// Every key, grouped by prefix in the order the example file shows them.
    public static let all: [ConfigurationKey] = [
        // AMQP
        .init(
            "amqp.url", nil, .urls(schemes: ["amqp", "amqps"]),
            "amqp:// or amqps:// URL with user and password; several (comma-separated) name a cluster's nodes. Secret: set PEDULI_AMQP_URL or a credential file, not here"
        ),
        .init("amqp.heartbeat_seconds", "30", .integer(0...3600), "AMQP heartbeat; 0 turns heartbeats off"),
        .init("amqp.connect_timeout_seconds", "10", .integer(1...300), "time allowed for one connection attempt"),
        .init(
            "amqp.tls.ca_file", "", .text,
            "PEM file of the CA that signed the broker's certificate (amqps://); empty: the system's"),
        .init("amqp.tls.cert_file", "", .text, "client certificate (PEM) for TLS client authentication; empty: none"),
        .init("amqp.tls.key_file", "", .text, "private key (PEM) of the client certificate"),
        .init("amqp.tls.verify_peer", "true", .boolean, "check the broker's certificate chain"),
        .init("amqp.tls.verify_hostname", "true", .boolean, "check that the certificate names the broker's host"),
        // Database
        .init(
            "database.url", nil, .text,
            "postgresql:// URL or libpq connection string. Secret: set PEDULI_DATABASE_URL or a credential file, not here"
        ),
        .init("database.connect_timeout_seconds", "10", .integer(1...300), "time allowed for one connection attempt"),
        .init(
            "database.statement_timeout_ms", "30000", .integer(0...3_600_000), "server-side statement timeout; 0: none"),
        // Worker
        .init(
            "worker.prefetch", "400", .integer(1...65_535),
            "unacknowledged deliveries the broker may send ahead (basic.qos)"),
        .init(
            "worker.database_threads", "2", .integer(1...16),
            "threads deciding batches, each with its own database session"),
        .init(
            "worker.batch_size", "200", .integer(1...10_000),
            "messages decided and stored in one database transaction; at most worker.prefetch"),
        .init(
            "worker.batch_max_wait_ms", "15", .integer(0...60_000), "how long a partial batch waits for more messages"),
        .init(
            "worker.drain_seconds", "20", .integer(1...3600),
            "on SIGTERM, time to finish and acknowledge what is in flight"),
        .init("worker.max_message_bytes", "65536", .integer(1...16_777_216), "larger bodies are parked as too_large"),
        .init(
            "worker.startup_wait_seconds", "60", .integer(0...86_400),
            "how long start-up waits for the broker and database before exiting 69"),
        .init(
            "worker.log_level", "info", .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]),
            "trace, debug, info, notice, warning, error or critical"),
        // Metrics
        .init(
            "metrics.listen", "127.0.0.1:9464", .listen,
            "host:port for /metrics, /healthz and /readyz ([::1]:9464 for IPv6); empty: off"),
        // Security
        .init("security.allowed_publishers", "", .words, "AMQP users whose commands are accepted; empty: no check"),
        .init(
            "security.data_keys_file", "", .text,
            "file of data keys (ID BASE64 lines, the last encrypts) that protect personal data at rest; also the data_keys credential. Required by every command that touches personal data"
        ),
        // Programme rules (mapped into PeduliDomain's ProgrammeConfiguration)
        .init("roster.enforce", "true", .boolean, "sponsors and payers must be on the ASN roster"),
        .init(
            "rules.nik_consistency", "reject", .choice(["reject", "warn"]),
            "reject or warn when the NIK's date or sex disagrees with birth_date/gender"),
        .init("rules.allow_pppk", "true", .boolean, "PPPK numbers are valid NIPs"),
        .init("rules.grace_months", "3", .integer(0...24), "months after paid_through that arrears can still be paid"),
        .init(
            "rules.due_day_of_month", "15", .integer(1...28), "day of month M on which month M's contribution is due"),
        .init(
            "rules.due_reminder_days", "7", .integer(0...31),
            "days before the due date that reminder.payment_due is sent"),
        .init(
            "rules.first_payment_days", "14", .integer(0...365),
            "days after acceptance that a new registration's first payment is due"),
        .init(
            "rules.age_max_months", "779", .integer(1...1440),
            "oldest age in completed months that can be registered or covered (64 years 11 months)"),
        .init("rules.age_min_years", "18", .integer(0...100), "youngest age in completed years that can be registered"),
        .init(
            "rules.max_clock_skew_seconds", "300", .integer(0...86_400),
            "how far in the future submitted_at/paid_at may be (in_future)"),
        .init("rules.payment_months", "1,2,3,6,12", .integers(1...120, unit: "months"), "the values months may take"),
        .init(
            "rules.rates", "2019-12-02:16800", .rates(amount: 1...1_000_000_000),
            "monthly contribution in rupiah, as EFFECTIVE-DATE:AMOUNT, one entry per change"),
        .init(
            "report.baseline_informal_workers", "215243", .integer(1...100_000_000),
            "informal workers in the city (BPJS TK baseline) for the coverage rate"),
        .init(
            "report.baseline_covered", "40196", .integer(0...100_000_000),
            "informal workers already covered at the baseline"),
        // Scheduler
        .init("scheduler.interval_seconds", "60", .integer(1...86_400), "time between two reminder passes"),
        .init(
            "privacy.retention_months", "24", .integer(1...1_200),
            "months after a membership ended before the scheduler erases its personal data"),
        // Catalogues
        .init(
            "catalogues.directory", "", .text,
            "directory with occupations.csv, kecamatan.csv, kelurahan.csv; empty: the catalogues built into the executable"
        ),
        // Topology
        .init("topology.inbound_exchange", "peduli.inbound", .name, "topic exchange the portals publish commands to"),
        .init("topology.registrations_queue", "peduli.registrations", .name, "quorum queue of registration commands"),
        .init(
            "topology.registrations_routing_key", "registration.submit", .name, "binding key of the registrations queue"
        ),
        .init("topology.payments_queue", "peduli.payments", .name, "quorum queue of payment commands"),
        .init("topology.payments_routing_key", "payment.submit", .name, "binding key of the payments queue"),
        .init("topology.events_exchange", "peduli.events", .name, "topic exchange of every event"),
        .init("topology.dead_exchange", "peduli.dead", .name, "fanout exchange of parked messages"),
        .init("topology.dead_queue", "peduli.dead-letters", .name, "quorum queue bound to the dead exchange"),
        .init(
            "topology.retry_queue_prefix", "peduli.payments.retry", .name,
            "retry queues are named PREFIX.DELAY (peduli.payments.retry.10s)"),
        .init(
            "topology.retry_delays", "10s,1m,10m,1h", .delays(maximumMilliseconds: 86_400_000),
            "delays between retries of a payment for an unknown registration"),
        .init("topology.delivery_limit", "5", .integer(1...1000), "x-delivery-limit of the work queues"),
    ]

    public static let byName: [String: ConfigurationKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The key of that name. Only for names written in code: a misspelt one is a programming
    /// error, caught by the first test that reads it, never by an operator.
    public static subscript(_ name: String) -> ConfigurationKey {
        guard let key = byName[name] else { preconditionFailure("unknown configuration key \(name)") }
        return key
    }

    /// The closest known key, for "did you mean": the smallest edit distance, if small enough to be
    /// a typo, else a key with the same last component (`prefetch` for `amqp.prefetch`).
    public static func suggestion(for unknown: String) -> String? {
        var best: (name: String, distance: Int)?
        for key in all {
            let distance = editDistance(unknown, key.name)
            if distance < (best?.distance ?? Int.max) { best = (key.name, distance) }
        }
        if let best, best.distance <= max(2, unknown.count / 4) { return best.name }
        let leaf = unknown.split(separator: ".").last.map(String.init) ?? unknown
        return all.first { $0.name.split(separator: ".").last.map(String.init) == leaf }?.name
    }

    /// The key whose environment variable (`PEDULI_WORKER_PREFETCH`) is closest to `variable`, if it is close
    /// enough to be a typo, else a key whose last component matches the variable's end.
    public static func suggestion(forEnvironmentName variable: String) -> String? {
        var best: (name: String, distance: Int)?
        for key in all {
            let distance = editDistance(variable, key.environmentName)
            if distance < (best?.distance ?? Int.max) { best = (key.name, distance) }
        }
        let stem = variable.hasPrefix("PEDULI_") ? String(variable.dropFirst(7)) : variable
        if let best, best.distance <= max(2, stem.count / 4) { return best.name }
        return all.first { key in
            let leaf = key.name.split(separator: ".").last.map { $0.uppercased() } ?? ""
            return !leaf.isEmpty && stem.hasSuffix("_" + leaf)
        }?.name
    }

    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
