import AMQPClient
import Foundation
import Testing

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
            throw AMQPTestEnvironmentError(description:
                "\(name) is not set: run `scripts/services start && . .services/env` (or scripts/test) first")
        }
        return value
    }

    static func url() throws -> String { try variable("PEDULI_TEST_AMQP_URL") }
    static func servicesScript() throws -> String { try variable("PEDULI_TEST_SERVICES") }

    static func configuration(name: String = #function, heartbeatSeconds: Int = 30) throws -> AMQPConfiguration {
        try AMQPConfiguration(url: url(), heartbeatSeconds: heartbeatSeconds, connectionName: "test \(name)",
                              connectTimeout: .seconds(5), rpcTimeout: .seconds(20))
    }

    static func uniqueName(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `scripts/services <arguments>` and returns its output; throws when it fails.
    @discardableResult
    static func services(_ arguments: [String]) throws -> String {
        let process = try startServices(arguments)
        return try finish(process)
    }

    static func startServices(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try servicesScript())
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, pipe)
    }

    static func finish(_ started: (Process, Pipe)) throws -> String {
        let (process, pipe) = started
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AMQPTestEnvironmentError(description:
                "services \(process.arguments ?? []) exited \(process.terminationStatus): \(output)")
        }
        return output
    }
}

/// Runs blocking librabbitmq work on a thread of its own (never on the cooperative pool), the way
/// the worker does, and hands back the result.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 8 << 20
        thread.start()
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
