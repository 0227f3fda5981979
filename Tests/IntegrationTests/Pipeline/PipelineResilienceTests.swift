import AMQPClient
import Foundation
import PeduliDomain
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import Testing

/// Failures the worker must survive without losing or duplicating anything.
@Suite(.serialized) struct PipelineResilienceTests {
    @Test func poisonMessageIsParkedByTheBrokerWhileOthersFlow() async throws {
        let h = try PipelineHarness { p, _ in p.topology.deliveryLimit = 2 }
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(10)
        // The poison is one registration's row (by its id: names are sealed, the database cannot see them).
        let poisoned = h.samples.registration(107, sponsor: sponsor).registrationID.canonicalString
        _ = try h.sql(
            """
            CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.registration_id = '\(poisoned)' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$
            """)
        _ = try h.sql("CREATE TRIGGER poison BEFORE INSERT ON registrations FOR EACH ROW EXECUTE FUNCTION poison()")
        try h.roster([sponsor])
        var messages: [(String, [UInt8], AMQPProperties)] = []
        for i in 0..<30 {
            let body = h.samples.registration(100 + i, sponsor: sponsor).body
            messages.append(("registration.submit", body.canonicalJSON(), PipelineHarness.properties("m\(i)")))
        }
        let batch = messages
        try await h.withWorker {
            try await h.publish(batch)
            try await h.waitFor("29 accepted and the poison dead-lettered", timeout: .seconds(60)) { e, d in
                e.count >= 29 && d.count >= 1
            }
        }
        #expect(h.capturedEvents.count == 29)
        #expect(Set(h.capturedEvents.map(\.type)) == ["registration.accepted"])
        let dead = try #require(h.capturedDeadLetters.first)
        #expect(dead.properties.messageId == "m7")
        #expect(dead.properties.headers?["x-death"] != nil)
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 29)
    }

    @Test func threeInstancesReachTheSameStateAsOne() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsors = (0..<20).map { h.samples.sponsor($0) }
        try h.roster(sponsors)
        let count = 1500
        let registrations = (0..<count).map { h.samples.registration($0, sponsor: sponsors[$0 % 20]) }
        var messages: [(String, [UInt8], AMQPProperties)] = []
        var twins: [(String, [UInt8], AMQPProperties)] = []
        for (i, r) in registrations.enumerated() {
            messages.append(("registration.submit", r.body.canonicalJSON(), PipelineHarness.properties("r\(i)")))
            // Every tenth registration is sent again with the same id (a redelivery: nothing) and with a new id
            // (a replay), and later its worker is registered again by another sponsor (already_registered).
            if i % 10 == 0 {
                messages.append(("registration.submit", r.body.canonicalJSON(), PipelineHarness.properties("r\(i)")))
                messages.append(
                    ("registration.submit", r.body.canonicalJSON(), PipelineHarness.properties("r\(i)-again")))
                let other = h.samples.registration(i, sponsor: sponsors[(i + 1) % 20])
                let twin = other.body.setting("registration_id", to: .string(UUID().uuidString.lowercased()))
                twins.append(("registration.submit", twin.canonicalJSON(), PipelineHarness.properties("r\(i)-twin")))
            }
        }
        for (i, r) in registrations.enumerated() where i % 3 == 0 {
            let p = h.samples.payment(i, for: r, payer: sponsors[i % 20], months: 1)
            messages.append(("payment.submit", p.body.canonicalJSON(), PipelineHarness.properties("p\(i)")))
        }
        let firstPhase = count + count / 10 + (count + 2) / 3
        let expectedEvents = firstPhase + count / 10
        let (batch, later) = (messages, twins)
        try await h.withWorker(instances: 3) {
            try await h.publish(batch)
            try await h.waitFor("\(firstPhase) events", timeout: .seconds(120)) { e, _ in e.count >= firstPhase }
            try await h.publish(later)
            try await h.waitFor("\(expectedEvents) events", timeout: .seconds(60)) { e, _ in e.count >= expectedEvents }
            try await Task.sleep(for: .seconds(1))
        }
        let events = h.capturedEvents
        #expect(events.count == expectedEvents)
        #expect(events.filter { $0.type == "registration.accepted" }.count == count + count / 10)
        #expect(events.filter { $0.type == "registration.rejected" }.count == count / 10)
        #expect(events.filter { $0.type == "payment.confirmed" }.count == (count + 2) / 3)
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == count)
        #expect(try h.sql("SELECT count(*) AS n FROM payments")[0].int("n") == (count + 2) / 3)
        #expect(try h.sql("SELECT count(DISTINCT receipt_number) AS n FROM payments")[0].int("n") == (count + 2) / 3)
        #expect(try h.sql("SELECT count(*) AS n FROM outbox")[0].int("n") == 0)
        #expect(h.capturedDeadLetters.isEmpty)
    }
}

extension PipelineResilienceTests {
    /// RabbitMQ restarted, then PostgreSQL restarted, while commands are in flight: nothing lost, nothing done
    /// twice, nobody intervenes.
    ///
    /// Each restart happens while the test holds `processing_log` locked and a worker transaction is waiting
    /// on that lock, so a batch is certainly in flight however fast the worker is: the broker restart leaves a
    /// batch that commits after its channel is gone (its acknowledgements are lost and the messages come
    /// back), and the database restart kills a batch inside its transaction (commit outcome unknown).
    @Test func brokerAndDatabaseRestartsLoseNothing() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsors = (0..<10).map { h.samples.sponsor($0) }
        try h.roster(sponsors)
        let count = 10_000
        let messages = (0..<count).map { i in
            (
                "registration.submit", h.samples.registration(i, sponsor: sponsors[i % 10]).body.canonicalJSON(),
                PipelineHarness.properties("r\(i)")
            )
        }
        try await h.publish(messages)
        let processed = { @Sendable () throws -> Int in
            try h.sql("SELECT count(*) AS n FROM processing_log")[0].int("n")
        }
        /// Waits until the worker has committed `target` commands, then stalls its commits behind a lock and
        /// waits until one of its transactions is blocked there.
        let stallAfter = { @Sendable (target: Int) async throws -> (PostgresConnection, Int) in
            let deadline = ContinuousClock.now + .seconds(120)
            func waitUntil(_ what: String, _ condition: () throws -> Bool) async throws {
                while try !condition() {
                    guard ContinuousClock.now < deadline else {
                        throw AMQPTestEnvironmentError(description: "timed out waiting until \(what)")
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            try await waitUntil("\(target) commands are committed") { try processed() >= target }
            let holder = try PostgresConnection(configuration: h.database)
            try holder.execute(simple: "BEGIN")
            try holder.execute(simple: "LOCK TABLE processing_log IN EXCLUSIVE MODE")
            try await waitUntil("a worker transaction waits on the lock") {
                try h.sql(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )[0].int("n") > 0
            }
            return (holder, try processed())
        }
        let atRestarts = try await h.withWorker {
            let (brokerLock, beforeBroker) = try await stallAfter(300)
            _ = try await onOwnThread { try AMQPTestEnvironment.services(["restart-rabbitmq"]) }
            try brokerLock.execute(simple: "COMMIT")
            // More than the prefetch window (400), so the worker must have reconnected to get this far.
            let (_, beforeDatabase) = try await stallAfter(beforeBroker + 1_000)
            // The restart ends the lock holder's session along with the worker's.
            _ = try await onOwnThread { try AMQPTestEnvironment.services(["restart-postgres"]) }
            try await h.waitFor("every registration's event", timeout: .seconds(300)) { e, _ in
                Set(e.compactMap { $0.string("registration_id") }).count >= count
            }
            return (beforeBroker, beforeDatabase)
        }
        // Both restarts really found work in flight.
        #expect(atRestarts.0 < count && atRestarts.1 < count)
        #expect(atRestarts.0 < atRestarts.1, "no progress between the broker restart and the database restart")
        let accepted = h.capturedEvents.filter { $0.type == "registration.accepted" }
        #expect(Set(accepted.compactMap { $0.string("registration_id") }).count == count)
        #expect(!h.capturedEvents.contains { $0.type == "registration.rejected" }, "a redelivery was decided twice")
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == count)
        #expect(try processed() == count)
        #expect(try h.sql("SELECT count(*) AS n FROM outbox")[0].int("n") == 0)
        #expect(h.capturedDeadLetters.isEmpty)
    }

    /// SIGTERM-equivalent: a graceful shutdown in the middle of a run settles what was taken, flushes the
    /// outbox and returns within the drain time; a second worker finishes the rest.
    @Test func gracefulStopSettlesInFlightWorkAndFlushesTheOutbox() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsors = (0..<10).map { h.samples.sponsor($0) }
        try h.roster(sponsors)
        // Several seconds of work even for a fast worker, so the stop lands in the middle.
        let count = 10_000
        let messages = (0..<count).map { i in
            (
                "registration.submit", h.samples.registration(i, sponsor: sponsors[i % 10]).body.canonicalJSON(),
                PipelineHarness.properties("r\(i)")
            )
        }
        try await h.publish(messages)
        let started = ContinuousClock.now
        try await h.withWorker {
            try await h.waitFor("a few events", timeout: .seconds(60)) { e, _ in e.count >= 50 }
        }
        #expect(ContinuousClock.now - started < .seconds(60))
        // Everything the stopped worker committed was published: no unsent outbox rows are left behind.
        #expect(try h.sql("SELECT count(*) AS n FROM outbox")[0].int("n") == 0)
        let settled = try h.sql("SELECT count(*) AS n FROM processing_log")[0].int("n")
        #expect(settled < count)
        try await h.withWorker {
            try await h.waitFor("the rest", timeout: .seconds(120)) { e, _ in e.count >= count }
        }
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == count)
        #expect(Set(h.capturedEvents.compactMap { $0.string("registration_id") }).count == count)
    }
}
