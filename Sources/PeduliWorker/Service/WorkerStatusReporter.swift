/// Where the worker tells whoever supervises the process how far it has got: the executable passes systemd's
/// notify socket (`READY=1`, `STOPPING=1`); tests and tools pass nothing. Liveness is not reported here: every
/// loop heartbeats into `HealthState` under its own key (consumer, database-N, relay, scheduler), and the
/// supervisor's watchdog reads that.
public protocol WorkerStatusReporter: Sendable {
    /// Start-up is over and the worker is consuming.
    func workerIsReady(status: String)
    /// A graceful stop has begun: intake is closed, what is in flight is being settled.
    func workerIsStopping(status: String)
}

/// Reports nowhere: the worker outside a service manager.
public struct SilentStatusReporter: WorkerStatusReporter {
    public init() {}
    public func workerIsReady(status: String) {}
    public func workerIsStopping(status: String) {}
}
