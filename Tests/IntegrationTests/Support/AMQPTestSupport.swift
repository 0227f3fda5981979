import AMQPClient
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// All AMQP integration tests hang off this suite so that they run one at a time: the fault tests
/// close every connection on the broker or restart it, which would break a neighbour.
@Suite(.serialized) struct AMQPIntegrationTests {}

struct AMQPTestEnvironmentError: Error, CustomStringConvertible {
    var description: String
}

/// Reads what `scripts/services start` exported (`. .services/env`). Missing variables fail the
/// test with a message saying how to start the services: these tests never skip.
enum AMQPTestEnvironment {
    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw AMQPTestEnvironmentError(
                description:
                    "\(name) is not set: run `scripts/services start && . .services/env` (or scripts/test) first")
        }
        return value
    }

    static func url() throws -> String { try variable("PEDULI_TEST_AMQP_URL") }
    static func servicesScript() throws -> String { try variable("PEDULI_TEST_SERVICES") }

    static func configuration(name: String = #function, heartbeatSeconds: Int = 30) throws -> AMQPConfiguration {
        try AMQPConfiguration(
            url: url(), heartbeatSeconds: heartbeatSeconds, connectionName: "test \(name)",
            connectTimeout: .seconds(5), rpcTimeout: .seconds(20))
    }

    static func uniqueName(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `scripts/services <arguments>` and returns its output; throws when it fails.
    @discardableResult
    static func services(_ arguments: [String]) throws -> String {
        try finish(startServices(arguments))
    }

    struct StartedProcess {
        var pid: pid_t
        var log: String
        var arguments: [String]
    }

    /// posix_spawn + waitpid rather than Foundation's Process: `restart-rabbitmq` leaves a detached
    /// broker behind, and Process then never notices the script's exit. Output goes to a file.
    static func startServices(_ arguments: [String]) throws -> StartedProcess {
        let script = try servicesScript()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "amqp-services-\(UUID().uuidString).log"
        ).path
        let quoted = ([script] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = "exec " + quoted.joined(separator: " ") + " >'\(log)' 2>&1 </dev/null"
        var pid: pid_t = 0
        let parts: [String] = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = parts.map { strdup($0) }
        argv.append(nil)
        defer { argv.forEach { free($0) } }
        let status = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard status == 0 else {
            throw AMQPTestEnvironmentError(description: "cannot run services \(arguments): errno \(status)")
        }
        return StartedProcess(pid: pid, log: log, arguments: arguments)
    }

    static func finish(_ started: StartedProcess) throws -> String {
        var status: Int32 = 0
        while waitpid(started.pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: started.log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: started.log)
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw AMQPTestEnvironmentError(
                description:
                    "services \(started.arguments) failed (wait status \(status)): \(output)")
        }
        return output
    }
}

extension AMQPConnection {
    /// Reads events until `predicate` is satisfied or `timeout` passes; returns all events read.
    func events(within timeout: Duration, until predicate: ([AMQPEvent]) -> Bool) throws -> [AMQPEvent] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var events: [AMQPEvent] = []
        while !predicate(events), clock.now < deadline {
            if let event = try nextEvent(timeout: .milliseconds(200)) { events.append(event) }
        }
        return events
    }
}
