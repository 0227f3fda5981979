import Logging
import Metrics
import PeduliWorker
import Prometheus
import ServiceLifecycle

/// Installs the Prometheus backend for swift-metrics and returns its registry, which `/metrics`
/// renders. Call once, before anything creates a metric (including `HealthState`).
func bootstrapMetrics() -> PrometheusCollectorRegistry {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}

/// The three routes: what Prometheus scrapes, what a liveness probe asks, what a readiness probe asks.
enum MetricsRoutes {
    static func handler(registry: PrometheusCollectorRegistry, health: HealthState) -> HTTPEndpoint.Handler {
        { path in
            switch path {
            case "/metrics":
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
    let logger: Logger

    func run() async throws {
        let endpoint = try HTTPEndpoint(
            host: host, port: port, handler: MetricsRoutes.handler(registry: registry, health: health))
        endpoint.start()
        logger.info("metrics endpoint listening", metadata: ["listen": "\(endpoint.address)"])
        try? await gracefulShutdown()
        await endpoint.stop()
        logger.info("metrics endpoint stopped")
    }
}
