import Testing

@testable import PeduliWorker

@Suite("Operations: HealthState")
struct OperationsHealthStateTests {
    @Test(
        "ready only with both connections and the consumer running",
        arguments: [
            (false, false, false, false), (true, false, false, false), (true, true, false, false),
            (true, false, true, false), (false, true, true, false), (true, true, true, true),
        ])
    func readiness(amqp: Bool, database: Bool, consuming: Bool, ready: Bool) {
        let health = HealthState()
        health.setAMQPConnected(amqp)
        health.setDatabaseConnected(database)
        health.setConsuming(consuming)
        #expect(health.isReady == ready)
        #expect(health.snapshot.isReady == ready)
        #expect(health.snapshot.amqpConnected == amqp)
    }

    @Test("losing a dependency makes it not ready again")
    func loseDependency() {
        let health = HealthState()
        health.setAMQPConnected(true)
        health.setDatabaseConnected(true)
        health.setConsuming(true)
        #expect(health.isReady)
        health.setDatabaseConnected(false)
        #expect(!health.isReady)
    }

    @Test("loops are alive only while every registered loop beat recently")
    func liveness() {
        let health = HealthState()
        let start = ContinuousClock.now
        #expect(health.loopsMadeProgress(within: .seconds(10), now: start))
        health.heartbeat("consumer", at: start)
        health.heartbeat("outbox", at: start + .seconds(5))
        #expect(health.loopsMadeProgress(within: .seconds(10), now: start + .seconds(10)))
        #expect(!health.loopsMadeProgress(within: .seconds(10), now: start + .seconds(11)))
        #expect(health.stalledLoops(within: .seconds(10), now: start + .seconds(11)) == ["consumer"])
        health.heartbeat("consumer", at: start + .seconds(11))
        #expect(health.loopsMadeProgress(within: .seconds(10), now: start + .seconds(12)))
        health.removeLoop("outbox")
        #expect(health.loopsMadeProgress(within: .seconds(10), now: start + .seconds(20)))
        #expect(!health.loopsMadeProgress(within: .seconds(10), now: start + .seconds(22)))
    }
}
