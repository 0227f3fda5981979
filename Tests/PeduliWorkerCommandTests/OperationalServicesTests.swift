import Logging
import PeduliWorker
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

@testable import PeduliWorkerCommand

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Stands in for the pipeline: runs until graceful shutdown and records that it saw it.
struct FakePipeline: Service {
    let stopped: Flag
    func run() async throws {
        try? await gracefulShutdown()
        stopped.set()
    }
}

@Suite("Operational services")
struct OperationalServicesTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func shell(_ notifier: SystemdNotifier = SystemdNotifier(environment: [:])) -> OperationalServices {
        OperationalServices(
            registry: PrometheusCollectorRegistry(), health: HealthState(), notifier: notifier, logger: logger)
    }

    @Test("metrics endpoint only when metrics.listen is set; the watchdog always")
    func composition() {
        var configuration = WorkerConfiguration()
        #expect(shell().services(configuration).count == 2)
        #expect(shell().services(configuration).first is MetricsEndpointService)
        configuration.metrics.host = nil
        let services = shell().services(configuration)
        #expect(services.count == 1 && services[0] is WatchdogService)
    }

    @Test("the liveness window is the watchdog interval, else 30 s")
    func livenessWindow() {
        #expect(shell().livenessWindow == .seconds(30))
        #expect(shell(SystemdNotifier(socketPath: "/x", watchdogInterval: .seconds(12))).livenessWindow == .seconds(12))
    }

    @Test("a graceful shutdown stops the pipeline and the operational services, and the group returns")
    func gracefulShutdownOfGroup() async throws {
        var configuration = WorkerConfiguration()
        configuration.metrics.port = 0
        let stopped = Flag()
        let group = shell().serviceGroup(pipeline: [FakePipeline(stopped: stopped)], configuration: configuration)
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(100))
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(stopped.isSet)
    }
}
