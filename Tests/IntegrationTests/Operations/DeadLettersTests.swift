import AMQPClient
import Foundation
import PeduliDomain
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import Testing

/// `peduli-worker dead-letters list|show|replay|purge`, through the built executable against the real broker
/// and database: reading keeps every message in its place, a replay passes the worker's publisher check, and
/// a kill between the broker's confirm and the removal of the parked copy loses nothing.
@Suite(.serialized) struct DeadLettersTests {
    /// The executable's environment for a harness (its database, its prefixed topology).
    static func environment(_ h: PipelineHarness, _ extra: [String: String] = [:]) -> [String: String] {
        let t = h.pipeline.topology
        var env: [String: String] = [
            "PEDULI_AMQP_URL": ProcessInfo.processInfo.environment["PEDULI_TEST_AMQP_URL"] ?? "",
            "PEDULI_DATABASE_URL": h.databaseURL,
            "PEDULI_TOPOLOGY_INBOUND_EXCHANGE": t.inboundExchange,
            "PEDULI_TOPOLOGY_REGISTRATIONS_QUEUE": t.registrationsQueue,
            "PEDULI_TOPOLOGY_PAYMENTS_QUEUE": t.paymentsQueue,
            "PEDULI_TOPOLOGY_EVENTS_EXCHANGE": t.eventsExchange,
            "PEDULI_TOPOLOGY_DEAD_EXCHANGE": t.deadExchange,
            "PEDULI_TOPOLOGY_DEAD_QUEUE": t.deadLettersQueue,
            "PEDULI_TOPOLOGY_RETRY_QUEUE_PREFIX": t.retryQueuePrefix,
            "PEDULI_TOPOLOGY_RETRY_DELAYS": "1s,2s",
            "PEDULI_WORKER_LOG_LEVEL": "warning",
        ]
        for (key, value) in extra { env[key] = value }
        return env
    }

    static func cli(
        _ h: PipelineHarness, _ arguments: [String], _ extra: [String: String] = [:]
    ) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try await WorkerProcess.run(["dead-letters"] + arguments, environment: environment(h, extra))
    }

    /// Ready messages in a queue, once the count has settled (returned messages take a moment to be ready).
    static func count(_ h: PipelineHarness, _ queue: String, expect: Int? = nil) async throws -> Int {
        let amqp = h.amqp
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let n = try await onOwnThread {
                let connection = try AMQPConnection(configuration: amqp)
                defer { connection.close() }
                return Int(try connection.declareQueue(name: queue, passive: true).messageCount)
            }
            if expect == nil || n == expect || ContinuousClock.now >= deadline { return n }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Publishes a parked copy as the worker would (its own user, the `x-peduli-*` headers), or as RabbitMQ
    /// would after the delivery limit (`x-death`, the portal's own `user_id`).
    static func park(
        _ h: PipelineHarness, _ r: SampleWorkload.Registration, messageID: String, reason: String,
        parkedAt: Date = Date()
    ) async throws {
        let t = h.pipeline.topology
        let byBroker = reason == "delivery_limit"
        var headers: AMQPTable = [:]
        if byBroker {
            headers["x-death"] = .array([
                .table([
                    "count": .int64(20), "reason": .string("delivery_limit"), "queue": .string(t.registrationsQueue),
                    "time": .timestamp(UInt64(parkedAt.timeIntervalSince1970)), "exchange": .string(t.inboundExchange),
                    "routing-keys": .array([.string(t.registrationsRoutingKey)]),
                ])
            ])
            headers["x-first-death-reason"] = .string("delivery_limit")
            headers["x-first-death-queue"] = .string(t.registrationsQueue)
        } else {
            headers["x-peduli-reason"] = .string(reason)
            headers["x-peduli-detail"] = .string("test copy")
            headers["x-peduli-queue"] = .string(t.registrationsQueue)
            headers["x-peduli-user-id"] = .string("portal")
            headers["x-peduli-parked-at"] = .timestamp(UInt64(parkedAt.timeIntervalSince1970))
        }
        let properties = AMQPProperties(
            contentType: "application/json", headers: headers, deliveryMode: 2, messageId: messageID,
            userId: byBroker ? "portal" : "peduli-worker", appId: "portal-test")
        let configuration = byBroker ? h.portal : h.amqp
        let body = r.body.canonicalJSON()
        try await onOwnThread {
            let connection = try AMQPConnection(configuration: configuration)
            defer { connection.close() }
            try connection.confirmSelect()
            try connection.publish(
                exchange: t.deadExchange, routingKey: t.registrationsRoutingKey, body: body, properties: properties)
            #expect(try connection.waitForConfirms(timeout: .seconds(10)).isEmpty)
        }
    }

    @Test func listShowReplayAndPurgeThroughTheExecutable() async throws {
        let h = try PipelineHarness { p, _ in p.allowedPublishers = ["portal"] }
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let r = (1...4).map { h.samples.registration($0, sponsor: sponsor) }
        let dead = h.pipeline.topology.deadLettersQueue

        // #1 parked by the worker itself: no message_id.
        try await h.withWorker {
            try await h.publish([
                (
                    h.pipeline.topology.registrationsRoutingKey, r[0].body.canonicalJSON(),
                    PipelineHarness.properties(nil)
                )
            ])
            #expect(try await Self.count(h, dead, expect: 1) == 1)
        }
        try await Self.park(h, r[1], messageID: "dup-2", reason: "conflicting_duplicate", parkedAt: Date() - 7200)
        try await Self.park(h, r[2], messageID: "poison-3", reason: "delivery_limit")
        try await Self.park(h, r[3], messageID: "unauth-4", reason: "unauthorized_publisher")
        #expect(try await Self.count(h, dead, expect: 4) == 4)

        // Reading twice: the same messages in the same order, all still there.
        let first = try await Self.cli(h, ["list"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try await Self.cli(h, ["list"])
        #expect(second.stdout == first.stdout)
        #expect(try await Self.count(h, dead, expect: 4) == 4)
        let lines = first.stdout.split(separator: "\n").filter { $0.hasPrefix("#") }
        #expect(lines.map { $0.split(separator: "\t")[1] } == ["-", "dup-2", "poison-3", "unauth-4"])
        #expect(lines[0].contains("missing_message_id") && lines[0].contains("\tportal\t"))
        #expect(lines[2].contains("delivery_limit") && lines[2].contains("delivered 20 times"))
        for registration in r {
            #expect(!first.stdout.contains(registration.nik), "a full NIK in the listing")
            #expect(first.stdout.contains(String(registration.nik.prefix(4)) + "********"))
        }
        for registration in r {
            guard case .string(let phone)? = registration.body.objectValue?["worker"]?.objectValue?["phone"] else {
                continue
            }
            #expect(!first.stdout.contains(phone), "a phone number in the listing")
        }
        #expect(first.stdout.contains("4 of 4 parked message(s) shown"))

        let shown = try await Self.cli(h, ["show", "poison-3"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("needs --force"))
        #expect(shown.stdout.contains("work queue deliveries  20"))
        #expect(try await Self.cli(h, ["show", "nope"]).status == 64)

        // Refused without --force: nothing replayed, nothing removed.
        let refused = try await Self.cli(h, ["replay", "dup-2", "#3"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("conflicting_duplicate") && refused.stderr.contains("delivery_limit"))
        #expect(try await Self.count(h, dead, expect: 4) == 4)

        let byReason = try await Self.cli(h, ["replay", "--reason", "missing_message_id", "--operator", "test"])
        #expect(byReason.status == 0, "\(byReason.stderr)")
        let byID = try await Self.cli(h, ["replay", "unauth-4"])
        #expect(byID.status == 0, "\(byID.stderr)")
        #expect(byID.stdout.contains("1 of 1 replayed"))
        #expect(try await Self.count(h, dead, expect: 2) == 2)

        // Purge: only the copy parked two hours ago is old enough.
        #expect(try await Self.cli(h, ["purge", "--reason", "conflicting_duplicate"]).status == 64)
        let young = try await Self.cli(h, ["purge", "--reason", "conflicting_duplicate", "--older-than", "3h"])
        #expect(young.stdout.contains("0 purged; 1 with reason"))
        let purged = try await Self.cli(h, ["purge", "--reason", "conflicting_duplicate", "--older-than", "1h"])
        #expect(purged.status == 0 && purged.stdout.contains("1 purged"), "\(purged.stdout)\(purged.stderr)")
        let forced = try await Self.cli(h, ["replay", "poison-3", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try await Self.count(h, dead, expect: 0) == 0)

        // The replays pass the publisher check as the portal's commands and are decided.
        try await h.withWorker {
            let deadline = ContinuousClock.now + .seconds(30)
            while try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") < 3,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let ids = try h.sql("SELECT registration_id::text AS id FROM registrations ORDER BY 1").map {
            try $0.string("id")
        }
        #expect(Set(ids) == Set([r[0], r[2], r[3]].map { $0.registrationID.uuidString.lowercased() }))
        let links = try h.sql(
            """
            SELECT r.original_message_id, r.reason, r.forced, r.operator, l.publisher, l.outcome
            FROM dead_letter_replays r JOIN processing_log l ON l.message_id = r.new_message_id
            WHERE r.confirmed_at IS NOT NULL ORDER BY r.id
            """)
        #expect(links.map { $0["original_message_id"] } == [nil, "unauth-4", "poison-3"])
        #expect(links.map { $0["publisher"] } == ["portal", "portal", "portal"])
        #expect(links.map { $0["outcome"] } == ["accepted", "accepted", "accepted"])
        #expect(links.map { $0["forced"] } == ["f", "f", "t"])
        #expect(links.first?["operator"] == "test")
    }

    @Test func aKillBetweenTheConfirmAndTheRemovalLosesNothing() async throws {
        let h = try PipelineHarness { p, _ in p.allowedPublishers = ["portal"] }
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let r = h.samples.registration(1, sponsor: sponsor)
        let t = h.pipeline.topology
        try await Self.park(h, r, messageID: "k-1", reason: "unauthorized_publisher")
        #expect(try await Self.count(h, t.deadLettersQueue, expect: 1) == 1)

        let child = try WorkerProcess(
            ["dead-letters", "replay", "k-1"],
            environment: Self.environment(h, ["PEDULI_TEST_DEAD_LETTERS_KILL_AFTER_CONFIRM": "1"]))
        let deadline = ContinuousClock.now + .seconds(60)
        while child.process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(child.process.terminationReason == .uncaughtSignal)
        #expect(child.process.terminationStatus == SIGKILL)

        // The replay is in the work queue and the parked copy is still parked: at worst one copy too many.
        #expect(try await Self.count(h, t.registrationsQueue, expect: 1) == 1)
        #expect(try await Self.count(h, t.deadLettersQueue, expect: 1) == 1)
        #expect(
            try h.sql("SELECT count(*) AS n FROM dead_letter_replays WHERE confirmed_at IS NOT NULL")[0].int("n") == 1)

        // Run again: the record says it went out, so the copy is only removed, not published twice.
        let again = try await Self.cli(h, ["replay", "k-1"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("already replayed"))
        #expect(try await Self.count(h, t.deadLettersQueue, expect: 0) == 0)
        #expect(try await Self.count(h, t.registrationsQueue, expect: 1) == 1)

        try await h.withWorker {
            let deadline = ContinuousClock.now + .seconds(30)
            while try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 1)
    }
}
