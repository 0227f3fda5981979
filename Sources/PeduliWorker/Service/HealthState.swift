import Foundation
import Metrics
internal import PeduliBase
import Synchronization

/// What the process knows about its own health, shared by the pipeline (which writes it), the
/// `/readyz` endpoint and the systemd watchdog (which read it).
///
/// It exists so that readiness and liveness are decided from one place: a load balancer or
/// operator asking `/readyz` and systemd's watchdog must never disagree about whether the worker is
/// stuck. Writes also update the `peduli_*` gauges so the same facts are visible in Prometheus.
public final class HealthState: Sendable {
    /// A consistent copy of the state at one instant.
    public struct Snapshot: Sendable, Equatable {
        public var amqpConnected: Bool
        public var databaseConnected: Bool
        public var consuming: Bool
        /// The last time each named loop reported progress (monotonic clock).
        public var heartbeats: [String: ContinuousClock.Instant]

        public init(
            amqpConnected: Bool = false,
            databaseConnected: Bool = false,
            consuming: Bool = false,
            heartbeats: [String: ContinuousClock.Instant] = [:]
        ) {
            self.amqpConnected = amqpConnected
            self.databaseConnected = databaseConnected
            self.consuming = consuming
            self.heartbeats = heartbeats
        }

        /// Ready means the worker can take work right now: both dependencies reachable and the
        /// consumer running. Anything less is "not ready" so that traffic or alerts go elsewhere.
        public var isReady: Bool { amqpConnected && databaseConnected && consuming }
    }

    private let state = Mutex(Snapshot())
    private let amqpGauge: Gauge
    private let databaseGauge: Gauge
    private let consumingGauge: Gauge
    private let silenceGauge = Gauge(label: PipelineMetrics.loopSilenceName)
    private let windowGauge = Gauge(label: PipelineMetrics.livenessWindowName)

    public init() {
        amqpGauge = Gauge(label: PipelineMetrics.amqpConnectedName)
        databaseGauge = Gauge(label: PipelineMetrics.databaseConnectedName)
        consumingGauge = Gauge(label: PipelineMetrics.consumingName)
        amqpGauge.record(0)
        databaseGauge.record(0)
        consumingGauge.record(0)
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    public var isReady: Bool { state.withLock { $0.isReady } }

    public func setAMQPConnected(_ connected: Bool) {
        state.withLock { $0.amqpConnected = connected }
        amqpGauge.record(connected ? 1 : 0)
    }

    public func setDatabaseConnected(_ connected: Bool) {
        state.withLock { $0.databaseConnected = connected }
        databaseGauge.record(connected ? 1 : 0)
    }

    public func setConsuming(_ consuming: Bool) {
        state.withLock { $0.consuming = consuming }
        consumingGauge.record(consuming ? 1 : 0)
    }

    /// Called by each long-running loop (consumer, outbox, scheduler) every time it goes round,
    /// including when it went round with nothing to do: the watchdog only trusts loops that turn.
    public func heartbeat(_ loop: String, at instant: ContinuousClock.Instant = .now) {
        state.withLock { $0.heartbeats[loop] = instant }
    }

    /// Forgets a loop that has ended on purpose (for example during drain), so that its silence is
    /// not mistaken for a hang.
    public func removeLoop(_ loop: String) {
        state.withLock { _ = $0.heartbeats.removeValue(forKey: loop) }
    }

    /// True when every loop that has reported at least once did so within `maxSilence` of `now`.
    /// With no loops registered yet there is nothing that can be stuck, so this is true; the
    /// pipeline decides which loops it registers.
    public func loopsMadeProgress(
        within maxSilence: Duration,
        now: ContinuousClock.Instant = .now
    ) -> Bool {
        state.withLock { snapshot in
            snapshot.heartbeats.values.allSatisfy { now - $0 <= maxSilence }
        }
    }

    /// The loops that have been silent longer than `maxSilence`, sorted, for a log line or `/readyz`.
    /// The longest time any loop has been silent (zero before any loop reported).
    public func longestSilence(now: ContinuousClock.Instant = .now) -> Duration {
        state.withLock { snapshot in snapshot.heartbeats.values.map { now - $0 }.max() ?? .zero }
    }

    /// Sets `peduli_loop_longest_silence_seconds` and `peduli_liveness_window_seconds`; called at each scrape,
    /// so the silence is current whatever the loops do.
    public func recordSilence(window: Duration, now: ContinuousClock.Instant = .now) {
        silenceGauge.record(longestSilence(now: now).seconds)
        windowGauge.record(window.seconds)
    }

    public func stalledLoops(
        within maxSilence: Duration,
        now: ContinuousClock.Instant = .now
    ) -> [String] {
        state.withLock { snapshot in
            snapshot.heartbeats.filter { now - $0.value > maxSilence }.keys.sorted()
        }
    }
}
