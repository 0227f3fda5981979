import AMQPClient
import Foundation
import PeduliBase
import PeduliTestSupport
import Testing

extension AMQPIntegrationTests {
    /// Faults: connections closed by the operator, and a full broker restart.
    @Suite struct Reconnect {
        /// Declares a durable queue, consumes it, and after `fault` expects the connection to be rebuilt
        /// (a new generation) that still receives messages.
        func survives(fault: [String], name: String, expectRetries: Bool) async throws {
            let config = try AMQPTestEnvironment.configuration(name: name, heartbeatSeconds: 5)
            let queue = AMQPTestEnvironment.uniqueName(name)
            let outcome = try await onOwnThread {
                () -> (generations: [UInt64], errors: [String], received: Bool, retries: Int) in
                var generations: [UInt64] = []
                var retries = 0
                var started: AMQPTestEnvironment.StartedProcess?
                var errors: [String] = []
                var received = false
                let reconnecting = AMQPReconnectingConnection(
                    configuration: config, backoff: Backoff(initial: .milliseconds(200), maximum: .seconds(2)),
                    sleep: {
                        retries += 1; blockingSleep($0)
                    }
                ) { connection in
                    try connection.declareQueue(name: queue, durable: true)
                    try connection.qos(prefetchCount: 10)
                    try connection.confirmSelect()
                    _ = try connection.consume(queue: queue)
                }
                defer { reconnecting.close() }
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(150)
                try reconnecting.run(shouldStop: { clock.now > deadline }) { connection in
                    generations.append(connection.generation)
                    if generations.count == 1 {
                        // Not waited for here: reconnect attempts must overlap the outage.
                        started = try AMQPTestEnvironment.startServices(fault)
                        do {
                            while clock.now < deadline { _ = try connection.nextEvent(timeout: .milliseconds(200)) }
                        } catch let error as AMQPError {
                            errors.append(error.code.rawValue)
                            throw error
                        }
                        return
                    }
                    let seq = try connection.publish(
                        exchange: "", routingKey: queue, body: Array("after".utf8),
                        properties: AMQPProperties(deliveryMode: 2))
                    #expect(try connection.waitForConfirms(upTo: seq, timeout: .seconds(10)) == [])
                    let events = try connection.events(within: .seconds(10)) { events in
                        events.contains { if case .delivery = $0 { true } else { false } }
                    }
                    for case .delivery(let d) in events {
                        #expect(d.body == Array("after".utf8))
                        #expect(d.generation == connection.generation)
                        try connection.ack(deliveryTag: d.deliveryTag)
                        received = true
                    }
                    try connection.deleteQueue(name: queue)
                }
                if let started { _ = try AMQPTestEnvironment.finish(started) }
                return (generations, errors, received, retries)
            }
            #expect(outcome.generations == [1, 2], "\(outcome)")
            #expect(outcome.errors.count == 1)
            #expect(outcome.received)
            if expectRetries { #expect(outcome.retries > 0, "reconnect should have retried while the broker was down") }
        }

        @Test func rebuildsAfterCloseAllConnections() async throws {
            try await survives(
                fault: ["rabbitmqctl", "close_all_connections", "test"], name: "closeall", expectRetries: false)
        }

        @Test func rebuildsAfterBrokerRestart() async throws {
            try await survives(fault: ["restart-rabbitmq"], name: "restart", expectRetries: true)
        }
    }
}
