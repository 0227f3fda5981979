import Metrics
import PeduliDomain
import PostgresClient

/// The pipeline's metrics, named once here so the README's list and the code cannot drift apart. Labels are
/// codes and queue names only: never an id, a NIK or anything a sender wrote.
public enum PipelineMetrics {
    /// Gauges, 1 while the AMQP connection is open / the database answers / the consumer takes messages.
    public static let amqpConnectedName = "peduli_amqp_connected"
    public static let databaseConnectedName = "peduli_database_connected"
    public static let consumingName = "peduli_consuming"
    /// Commands taken from a work queue, by command (`registration`, `payment`).
    public static let consumedName = "peduli_commands_consumed_total"
    /// Settled messages, by command and outcome (`accepted`, `rejected`, `confirmed`, `parked`, `duplicate`,
    /// `replayed`, `retry_scheduled`) and the first reason code (`none` when there is none).
    public static let outcomesName = "peduli_outcomes_total"
    /// Messages parked in `peduli.dead`, by reason.
    public static let deadLettersName = "peduli_dead_letters_total"
    /// Payments sent to a delayed retry because their registration is not known yet.
    public static let retriesName = "peduli_retries_scheduled_total"
    /// Deliveries per committed batch.
    public static let batchSizeName = "peduli_batch_size"
    /// Time from a batch reaching the database thread to its commit.
    public static let commitLatencyName = "peduli_decide_to_commit_seconds"
    /// Transactions that had to be retried (deadlock, serialization, constraint race) or isolated.
    public static let batchRetriesName = "peduli_batch_retries_total"
    /// Outbox rows not yet confirmed by the broker, and the age of the oldest.
    public static let outboxBacklogName = "peduli_outbox_backlog"
    public static let outboxOldestAgeName = "peduli_outbox_oldest_age_seconds"
    /// Time from publishing a round of outbox rows to the broker's last confirm of it (the broker's own
    /// persistence time, which bounds how fast events follow their commit).
    public static let outboxConfirmName = "peduli_outbox_confirm_seconds"
    /// Outbox rows the broker refused (nacks); each is retried later under the outbox retry policy.
    public static let outboxRefusedName = "peduli_outbox_refused_total"
    /// Outbox rows published in reduced form (original headers removed) because they did not fit a frame.
    public static let outboxReducedName = "peduli_outbox_reduced_total"
    /// Outbox rows moved to `outbox_set_aside`, by reason (`refused`, `unpublishable`), and how many wait there:
    /// anything above 0 needs an operator (an alert).
    public static let outboxSetAsideName = "peduli_outbox_set_aside_total"
    public static let outboxSetAsideBacklogName = "peduli_outbox_set_aside"
    /// Events (not parked or retry copies) confirmed by the broker.
    public static let eventsPublishedName = "peduli_events_published_total"
    /// Outbox rows confirmed by the broker, by kind (`event`, `parked`, `retry`).
    public static let outboxPublishedName = "peduli_outbox_published_total"
    /// Reminders and membership endings emitted, by kind.
    public static let remindersName = "peduli_reminders_emitted_total"
    /// Connections rebuilt after a loss, by dependency (`amqp`, `postgres`) and loop.
    public static let reconnectsName = "peduli_reconnects_total"
    /// Seconds since the quietest loop last reported progress, and how long a loop may stay quiet before the
    /// watchdog stops vouching for the worker (both set at each scrape): near 1 as a ratio, a restart is close.
    public static let loopSilenceName = "peduli_loop_longest_silence_seconds"
    public static let livenessWindowName = "peduli_liveness_window_seconds"
    /// 1, labelled with the build's `version` and git `commit`; set once at start-up.
    public static let buildInfoName = "peduli_build_info"

    /// Sets `peduli_build_info{version,commit}` to 1.
    public static func buildInfo(version: String, commit: String) {
        Gauge(label: buildInfoName, dimensions: [("version", version), ("commit", commit)]).record(1)
    }

    static func consumed(_ command: String) {
        Counter(label: consumedName, dimensions: [("command", command)]).increment()
    }

    static func outcome(_ command: String, _ outcome: String, reason: String?) {
        Counter(
            label: outcomesName, dimensions: [("command", command), ("outcome", outcome), ("reason", reason ?? "none")]
        )
        .increment()
    }

    static func parked(_ reason: ParkReason) {
        Counter(label: deadLettersName, dimensions: [("reason", reason.rawValue)]).increment()
    }

    static func retryScheduled(attempt: Int) {
        Counter(label: retriesName, dimensions: [("attempt", String(attempt))]).increment()
    }

    /// The counters of a committed decision: recorded after the commit, so a batch decided again after a
    /// failed attempt counts its messages once.
    static func record(_ decision: BatchDecision) {
        for command in decision.duplicates {
            consumed(command.rawValue)
            outcome(command.rawValue, "duplicate", reason: nil)
        }
        for row in decision.log {
            consumed(row.command.rawValue)
            outcome(row.command.rawValue, row.outcome, reason: row.reasons.first)
            switch row.outcome {
            case "parked": if let reason = row.reasons.first.flatMap(ParkReason.init(rawValue:)) { parked(reason) }
            case "retry_scheduled": retryScheduled(attempt: row.attempt + 1)
            default: break
            }
        }
    }

    static func batch(size: Int, commitSeconds: Double) {
        Recorder(label: batchSizeName, aggregate: true).record(size)
        Timer(label: commitLatencyName).recordNanoseconds(Int64(commitSeconds * 1e9))
    }

    static func batchRetried(_ why: String) {
        Counter(label: batchRetriesName, dimensions: [("why", why)]).increment()
    }

    static func outbox(backlog: Int, oldestAgeSeconds: Double) {
        Gauge(label: outboxBacklogName).record(backlog)
        Gauge(label: outboxOldestAgeName).record(oldestAgeSeconds)
    }

    /// A confirmed round: its confirm time, and the confirmed rows by kind (only events count as events).
    static func published(_ kinds: [OutboxMessage.Kind], confirmSeconds: Double) {
        Timer(label: outboxConfirmName).recordNanoseconds(Int64(confirmSeconds * 1e9))
        var counts: [OutboxMessage.Kind: Int] = [:]
        for kind in kinds { counts[kind, default: 0] += 1 }
        for (kind, count) in counts {
            Counter(label: outboxPublishedName, dimensions: [("kind", kind.rawValue)]).increment(by: count)
            if kind == .event { Counter(label: eventsPublishedName).increment(by: count) }
        }
    }

    static func outboxRefused(_ count: Int) {
        Counter(label: outboxRefusedName).increment(by: count)
    }

    static func outboxReduced() {
        Counter(label: outboxReducedName).increment()
    }

    static func outboxSetAside(reason: String, count: Int) {
        Counter(label: outboxSetAsideName, dimensions: [("reason", reason)]).increment(by: count)
    }

    static func outboxSetAside(backlog: Int) {
        Gauge(label: outboxSetAsideBacklogName).record(backlog)
    }

    static func reminder(_ kind: String) {
        Counter(label: remindersName, dimensions: [("kind", kind)]).increment()
    }

    static func reconnected(_ dependency: String, loop: String) {
        Counter(label: reconnectsName, dimensions: [("dependency", dependency), ("loop", loop)]).increment()
    }
}

// MARK: - Descriptions, buckets and the series present from start-up

extension PipelineMetrics {
    /// What the metrics backend needs to know about one metric: its HELP text, its type and buckets, and the
    /// label combinations created at start-up so that each series reads 0 before its first increment (a
    /// series that appears only with its first increment is invisible to `increase()` and `rate()`).
    public struct Definition: Sendable {
        public enum Kind: Sendable, Equatable {
            case counter
            case gauge
            /// A `Timer`, exposed in seconds, with these bucket bounds in seconds.
            case seconds(buckets: [Double])
            /// An aggregating `Recorder`, with these bucket bounds.
            case values(buckets: [Double])
        }

        public let name: String
        public let help: String
        public let kind: Kind
        /// The label combinations created at start-up; empty for a metric without labels (created once).
        public let series: [[(String, String)]]

        public init(_ name: String, _ kind: Kind, _ help: String, series: [[(String, String)]] = []) {
            self.name = name
            self.help = help
            self.kind = kind
            self.series = series
        }

        /// The label names of the metric (none for an unlabelled one).
        public var labelNames: [String] { series.first?.map(\.0) ?? [] }
    }

    /// Buckets of the confirm and commit times: 0.25 ms to 10 s (measured: confirms 1.0–2.6 ms, commits
    /// 5.2–5.7 ms at 1,000 commands/s; seconds during an outage or a lock wait).
    public static let latencyBuckets: [Double] = [
        0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// Buckets of the batch sizes: 1, 2, 5, 10, 20, 50 ... below the configured maximum, then the maximum
    /// itself (a batch never holds more than `worker.batch_size` deliveries).
    public static func batchSizeBuckets(maximum: Int) -> [Double] {
        let top = max(1, maximum)
        var bounds: [Int] = []
        var decade = 1
        outer: while true {
            for step in [1, 2, 5] {
                let bound = step * decade
                if bound >= top { break outer }
                bounds.append(bound)
            }
            decade *= 10
        }
        return (bounds + [top]).map(Double.init)
    }

    /// The reason codes pre-registered for `peduli_outcomes_total`, per outcome: `none` where an outcome can
    /// come without a reason; every rule code for `rejected` (the label is the first one), every park reason
    /// for `parked`, the NIK warnings for an accepted registration, `unknown_registration` for a retry.
    static func outcomeSeries() -> [[(String, String)]] {
        let rules = RuleCode.allCases.map(\.rawValue)
        let parks = ParkReason.allCases.map(\.rawValue)
        let warnings = [RuleCode.nikBirthDateMismatch, .nikGenderMismatch].map(\.rawValue)
        let reasons: [(CommandKind, String, [String])] = [
            (.registration, "accepted", ["none"] + warnings),
            (.registration, "rejected", rules),
            (.registration, "parked", parks),
            (.registration, "duplicate", ["none"]),
            (.registration, "replayed", ["none"]),
            (.payment, "confirmed", ["none"]),
            (.payment, "rejected", rules),
            (.payment, "parked", parks),
            (.payment, "duplicate", ["none"]),
            (.payment, "replayed", ["none"]),
            (.payment, "retry_scheduled", [RuleCode.unknownRegistration.rawValue]),
        ]
        return reasons.flatMap { command, outcome, codes in
            codes.map { [("command", command.rawValue), ("outcome", outcome), ("reason", $0)] }
        }
    }

    /// Every metric the worker exposes, with the buckets and start-up series fitted to `pipeline`.
    /// - Parameter build: the version and commit `peduli_build_info` is labelled with (its one series is
    ///   created with them, so the later `buildInfo` call finds the labels it registered; swift-prometheus
    ///   refuses a labelled series next to an unlabelled one of the same name).
    public static func definitions(
        pipeline: PipelineConfiguration, build: (version: String, commit: String) = ("unknown", "unknown")
    ) -> [Definition] {
        let commands = [CommandKind.registration, .payment].map { [("command", $0.rawValue)] }
        let attempts = max(1, pipeline.topology.retryDelays.count)
        return [
            Definition(amqpConnectedName, .gauge, "1 while the worker's AMQP connection is open, else 0."),
            Definition(databaseConnectedName, .gauge, "1 while the worker's database sessions answer, else 0."),
            Definition(consumingName, .gauge, "1 while the consumer takes messages from the work queues, else 0."),
            Definition(
                buildInfoName, .gauge, "1, labelled with the running build's version and git commit.",
                series: [[("version", build.version), ("commit", build.commit)]]),
            Definition(
                loopSilenceName, .gauge,
                "Seconds since the quietest worker loop last reported progress (read at each scrape)."),
            Definition(
                livenessWindowName, .gauge,
                "Seconds a loop may stay silent before the watchdog stops pinging systemd (a restart follows)."),
            Definition(
                consumedName, .counter, "Commands taken from a work queue, by command kind.", series: commands),
            Definition(
                outcomesName, .counter,
                "Settled messages by command, outcome and first reason code (none when there is none).",
                series: outcomeSeries()),
            Definition(
                deadLettersName, .counter, "Messages the worker parked in the dead letters, by reason.",
                series: ParkReason.allCases.map { [("reason", $0.rawValue)] }),
            Definition(
                retriesName, .counter,
                "Payments sent to a delayed retry because their registration is not known yet, by attempt.",
                series: (1...attempts).map { [("attempt", String($0))] }),
            Definition(
                batchSizeName, .values(buckets: batchSizeBuckets(maximum: pipeline.batchSize)),
                "Deliveries per committed batch."),
            Definition(
                commitLatencyName, .seconds(buckets: latencyBuckets),
                "Seconds from a batch reaching a database thread to its commit."),
            Definition(
                batchRetriesName, .counter,
                "Batches decided again after a failed attempt, by cause (concurrent claim, deadlock, lost session, other).",
                series: (["concurrent_claim"] + PostgresError.Category.allCases.map(\.rawValue)).map { [("why", $0)] }),
            Definition(outboxBacklogName, .gauge, "Outbox rows not yet confirmed by the broker."),
            Definition(
                outboxOldestAgeName, .gauge, "Age in seconds of the oldest outbox row not yet confirmed (0 when none)."
            ),
            Definition(
                outboxConfirmName, .seconds(buckets: latencyBuckets),
                "Seconds from publishing a round of outbox rows to the broker's last confirm of it."),
            Definition(
                outboxRefusedName, .counter, "Outbox rows the broker refused (nacked); each is retried later."),
            Definition(
                outboxReducedName, .counter,
                "Outbox rows published without their original headers because they did not fit a frame."),
            Definition(
                outboxSetAsideName, .counter, "Outbox rows moved to outbox_set_aside, by reason.",
                series: ["refused", "unpublishable"].map { [("reason", $0)] }),
            Definition(
                outboxSetAsideBacklogName, .gauge, "Rows waiting in outbox_set_aside for an operator (alert above 0)."
            ),
            Definition(
                eventsPublishedName, .counter, "Events confirmed by the broker (parked and retry copies not included)."),
            Definition(
                outboxPublishedName, .counter,
                "Outbox rows confirmed by the broker, by kind: event, parked copy, retry copy.",
                series: OutboxMessage.Kind.allCases.map { [("kind", $0.rawValue)] }),
            Definition(
                remindersName, .counter, "Reminders and membership endings emitted, by kind.",
                series: ReminderKind.allCases.map { [("kind", $0.rawValue)] }),
            Definition(
                reconnectsName, .counter, "Connections rebuilt after a loss, by dependency and loop.",
                series: [
                    [("dependency", "amqp"), ("loop", "consumer")], [("dependency", "postgres"), ("loop", "database")],
                ]),
        ]
    }

    /// Creates every series of `definitions` in `factory`, so that each one is exposed (at 0) from start-up.
    /// Existing series keep their values: a gauge is created, not set.
    public static func preregister(_ definitions: [Definition], factory: any MetricsFactory) {
        for definition in definitions {
            for dimensions in definition.series.isEmpty ? [[]] : definition.series {
                switch definition.kind {
                case .counter: _ = Counter(label: definition.name, dimensions: dimensions, factory: factory)
                case .gauge: _ = Gauge(label: definition.name, dimensions: dimensions, factory: factory)
                case .seconds: _ = Timer(label: definition.name, dimensions: dimensions, factory: factory)
                case .values:
                    _ = Recorder(label: definition.name, dimensions: dimensions, aggregate: true, factory: factory)
                }
            }
        }
    }
}
