import Logging
import PeduliWorker
import Prometheus
import ServiceLifecycle

/// The operational shell `run` puts around the pipeline: logging, metrics, health, systemd. The pipeline
/// (`WorkerService`) sends `READY=1` once consuming and `STOPPING=1` on shutdown through `notifier`, updates
/// `health`, and each of its loops calls `health.heartbeat(_:)`, which is what the watchdog vouches for.
struct OperationalServices {
    let registry: PrometheusCollectorRegistry
    let health: HealthState
    let notifier: SystemdNotifier
    let logger: Logger

    /// Installs the process-wide logging and metrics backends; call once, first thing in `run`.
    static func bootstrap(_ configuration: WorkerConfiguration) -> OperationalServices {
        let logger = bootstrapLogging(configuration)
        let registry = bootstrapMetrics(pipeline: configuration.pipelineConfiguration())
        PipelineMetrics.buildInfo(version: BuildInfo.version, commit: BuildInfo.commit)
        return OperationalServices(
            registry: registry, health: HealthState(), notifier: SystemdNotifier(), logger: logger)
    }

    /// How long a loop may stay silent before the watchdog stops vouching for the worker: the
    /// watchdog interval itself (systemd restarts after one missed interval), or 30 s without one.
    var livenessWindow: Duration { notifier.watchdogInterval ?? .seconds(30) }

    /// The metrics endpoint (when `metrics.listen` is set) and the watchdog.
    func services(_ configuration: WorkerConfiguration) -> [any Service] {
        var services: [any Service] = []
        if let host = configuration.metrics.host {
            services.append(
                MetricsEndpointService(
                    host: host, port: configuration.metrics.port, registry: registry, health: health,
                    livenessWindow: livenessWindow, logger: logger))
        }
        let health = self.health
        let window = livenessWindow
        services.append(
            WatchdogService(notifier: notifier, logger: logger) {
                health.loopsMadeProgress(within: window)
            })
        return services
    }

    /// One group for everything: SIGTERM/SIGINT (taken by `StopSignals`, see `RunCommand`) start a graceful
    /// shutdown bounded by the drain time plus a margin for publishing pending events. The operational services come first so
    /// that, as ServiceLifecycle stops services in reverse order, `/metrics` and the watchdog
    /// outlive the pipeline's drain.
    func serviceGroup(pipeline: [any Service], configuration: WorkerConfiguration) -> ServiceGroup {
        var groupConfiguration = ServiceGroupConfiguration(
            services: (services(configuration) + pipeline).map { .init(service: $0) },
            gracefulShutdownSignals: [],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(configuration.worker.drainSeconds + 5)
        return ServiceGroup(configuration: groupConfiguration)
    }
}
