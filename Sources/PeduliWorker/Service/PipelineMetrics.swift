import Metrics

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
    /// Outbox rows confirmed by the broker.
    public static let eventsPublishedName = "peduli_events_published_total"
    /// Reminders and membership endings emitted, by kind.
    public static let remindersName = "peduli_reminders_emitted_total"
    /// Connections rebuilt after a loss, by dependency (`amqp`, `postgres`) and loop.
    public static let reconnectsName = "peduli_reconnects_total"
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

    static func published(_ count: Int, confirmSeconds: Double) {
        Timer(label: outboxConfirmName).recordNanoseconds(Int64(confirmSeconds * 1e9))
        guard count > 0 else { return }
        Counter(label: eventsPublishedName).increment(by: count)
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
