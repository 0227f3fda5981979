import Logging
import Metrics
import PeduliWorker
import Prometheus
import ServiceLifecycle

/// Installs the Prometheus backend for swift-metrics (HELP and buckets from `PipelineMetrics.definitions`,
/// fitted to `pipeline`), creates every known series at 0 and returns the registry, which `/metrics`
/// renders. Call once, before anything creates a metric (including `HealthState`).
func bootstrapMetrics(pipeline: PipelineConfiguration) -> PrometheusCollectorRegistry {
    let registry = PrometheusCollectorRegistry()
    let definitions = PipelineMetrics.definitions(
        pipeline: pipeline, build: (BuildInfo.version, BuildInfo.commit))
    let factory = DescribedMetricsFactory(registry: registry, definitions: definitions)
    MetricsSystem.bootstrap(factory)
    PipelineMetrics.preregister(definitions, factory: factory)
    return registry
}

/// The three routes: what Prometheus scrapes, what a liveness probe asks, what a readiness probe asks.
enum MetricsRoutes {
    static func handler(
        registry: PrometheusCollectorRegistry, health: HealthState, livenessWindow: Duration = .seconds(30)
    ) -> HTTPEndpoint.Handler {
        { path in
            switch path {
            case "/metrics":
                health.recordSilence(window: livenessWindow)
                return HTTPResponse(
                    status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToString())
            case "/healthz":
                // The process answers, so it is alive; stuck loops are the watchdog's business.
                return HTTPResponse(status: 200, body: "ok\n")
            case "/readyz":
                let snapshot = health.snapshot
                if snapshot.isReady { return HTTPResponse(status: 200, body: "ready\n") }
                return HTTPResponse(
                    status: 503,
                    body: "not ready: amqp=\(snapshot.amqpConnected ? "up" : "down") "
                        + "database=\(snapshot.databaseConnected ? "up" : "down") "
                        + "consuming=\(snapshot.consuming ? "yes" : "no")\n")
            default:
                return .error(404)
            }
        }
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `metrics.listen` for as long as the service group
/// runs; stops listening on graceful shutdown (or cancellation).
struct MetricsEndpointService: Service {
    let host: String
    let port: UInt16
    let registry: PrometheusCollectorRegistry
    let health: HealthState
    var livenessWindow: Duration = .seconds(30)
    let logger: Logger

    func run() async throws {
        let endpoint = try HTTPEndpoint(
            host: host, port: port,
            handler: MetricsRoutes.handler(registry: registry, health: health, livenessWindow: livenessWindow))
        endpoint.start()
        logger.info("metrics endpoint listening", metadata: ["listen": "\(endpoint.address)"])
        try? await gracefulShutdown()
        await endpoint.stop()
        logger.info("metrics endpoint stopped")
    }
}
