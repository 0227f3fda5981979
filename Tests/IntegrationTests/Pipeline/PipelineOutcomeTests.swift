import AMQPClient
import Foundation
import PeduliDomain
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import Testing

/// Every outcome kind, end to end: portal publish → worker → PostgreSQL → event or dead letter.
@Suite(.serialized) struct PipelineOutcomeTests {
    @Test func acceptedRegistrationThenConfirmedPayment() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let registration = h.samples.registration(1, sponsor: sponsor)
        let payment = h.samples.payment(1, for: registration, payer: sponsor, months: 3)
        try await h.withWorker {
            try await h.register(registration, messageID: "reg-1")
            try await h.waitFor("registration.accepted") { e, _ in e.contains { $0.type == "registration.accepted" } }
            try await h.pay(payment, messageID: "pay-1")
            try await h.waitFor("payment.confirmed") { e, _ in e.contains { $0.type == "payment.confirmed" } }
        }
        let accepted = try #require(h.capturedEvents.first { $0.type == "registration.accepted" })
        #expect(accepted.string("registration_id") == registration.registrationID.uuidString.lowercased())
        #expect(accepted.properties.correlationId == "reg-1")
        #expect(accepted.properties.deliveryMode == 2)
        #expect(accepted.properties.appId == "peduli-worker")
        #expect(accepted.properties.messageId == accepted.string("event_id"))
        #expect(accepted.routingKey == "registration.accepted")
        let body = String(decoding: accepted.body, as: UTF8.self)
        #expect(!body.contains(registration.nik), "full NIK in an event")
        #expect(body.contains(String(registration.nik.prefix(4)) + "********" + String(registration.nik.suffix(4))))

        let confirmed = try #require(h.capturedEvents.first { $0.type == "payment.confirmed" })
        let month = JakartaDate(Date()).yearMonth
        #expect(confirmed.string("covered_from") == month.description)
        #expect(confirmed.string("covered_through") == month.adding(months: 2).description)
        #expect(confirmed.string("receipt_number")?.hasPrefix("PPR-\(month.year)-") == true)
        let rows = try h.sql("SELECT to_char(paid_through, 'YYYY-MM') AS p FROM registrations")
        #expect(try rows[0].string("p") == month.adding(months: 2).description)

        // One row per covered month; a second payment for any of them breaks the primary key.
        let months = try h.sql("SELECT to_char(month, 'YYYY-MM') AS m FROM payment_months ORDER BY month")
        #expect(try months.map { try $0.string("m") } == (0..<3).map { month.adding(months: $0).description })
        let overlap = try #require(throws: PostgresError.self) {
            try h.sql(
                "INSERT INTO payment_months (registration_id, month, payment_id) VALUES ($1::uuid, $2::date, 'other')",
                [registration.registrationID.uuidString, month.adding(months: 1).firstDay.description])
        }
        #expect(overlap.category == .duplicate)
        #expect(overlap.constraint == "payment_months_pkey")
    }

    @Test func rejectionListsEveryError() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(2)
        try h.roster([sponsor])
        var body = h.samples.registration(2, sponsor: sponsor).body
        body = body.setting("worker.gender", to: "X")
        body = body.setting("worker.occupation", to: "Z999")
        body = body.setting("worker.actively_working", to: .bool(false))
        body = body.setting("worker.work_location.kecamatan", to: "337501")
        body = body.setting("source", to: "rumor")
        let bytes = body.canonicalJSON()
        try await h.withWorker {
            try await h.publish([("registration.submit", bytes, PipelineHarness.properties("bad-1"))])
            try await h.waitFor("registration.rejected") { e, _ in e.contains { $0.type == "registration.rejected" } }
        }
        let rejected = try #require(h.capturedEvents.first { $0.type == "registration.rejected" })
        guard case .array(let errors)? = rejected.json?.objectValue?["errors"] else {
            Issue.record("no errors list")
            return
        }
        let codes = Set(
            errors.compactMap { e -> String? in
                if case .string(let c)? = e.objectValue?["code"] { return c }
                return nil
            })
        #expect(codes == ["invalid_value", "unknown_occupation", "not_actively_working", "outside_programme_area"])
        #expect(errors.count == 5)
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 0)
    }

    static let parkCases: [(String, ParkReason)] = [
        ("content type", .unsupportedContentType), ("no message id", .missingMessageID),
        ("long message id", .invalidMessageID), ("not json", .malformedJSON), ("array", .malformedJSON),
        ("invalid utf8", .malformedJSON), ("too large", .tooLarge), ("unauthorized", .unauthorizedPublisher),
    ]

    /// Oversized bodies among ordinary commands: batches and relay batches split at their byte bounds, every
    /// oversized body is parked whole and every ordinary command is decided.
    @Test func oversizedBodiesAreParkedWholeInByteBoundedBatches() async throws {
        let h = try PipelineHarness { p, _ in
            p.batchBytes = 256 << 10
            p.outboxBatchBytes = 256 << 10
        }
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(4)
        try h.roster([sponsor])
        var messages: [(String, [UInt8], AMQPProperties)] = []
        for i in 0..<30 {
            let big = Array(repeating: UInt8(ascii: "a") &+ UInt8(i % 26), count: 200 << 10)
            messages.append(("registration.submit", big, PipelineHarness.properties("big-\(i)")))
            let ordinary = h.samples.registration(400 + i, sponsor: sponsor).body.canonicalJSON()
            messages.append(("registration.submit", ordinary, PipelineHarness.properties("ok-\(i)")))
        }
        try await h.publish(messages)
        try await h.withWorker {
            try await h.waitFor("30 dead letters and 30 acceptances") { e, d in
                d.count >= 30 && e.filter { $0.type == "registration.accepted" }.count >= 30
            }
        }
        let parked = Dictionary(uniqueKeysWithValues: h.capturedDeadLetters.map { ($0.properties.messageId ?? "", $0) })
        #expect(parked.count == 30)
        for i in 0..<30 {
            let d = try #require(parked["big-\(i)"])
            #expect(d.header("x-peduli-reason") == ParkReason.tooLarge.rawValue)
            #expect(d.body == Array(repeating: UInt8(ascii: "a") &+ UInt8(i % 26), count: 200 << 10))
        }
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 30)
    }

    @Test func everyDeadLetterReason() async throws {
        let h = try PipelineHarness { p, _ in
            p.allowedPublishers = ["portal"]
            p.maxMessageBytes = 4096
        }
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(3)
        try h.roster([sponsor])
        let valid = h.samples.registration(3, sponsor: sponsor).body.canonicalJSON()
        let key = "registration.submit"
        var messages: [(String, [UInt8], AMQPProperties)] = [
            (key, valid, PipelineHarness.properties("p1", contentType: "text/plain")),
            (key, valid, PipelineHarness.properties(nil)),
            (key, valid, PipelineHarness.properties(String(repeating: "x", count: 129))),
            (key, Array("{not json".utf8), PipelineHarness.properties("p4")),
            (key, Array("[1,2]".utf8), PipelineHarness.properties("p5")),
            (key, [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], PipelineHarness.properties("p6")),
            (key, Array(repeating: 0x20, count: 5000), PipelineHarness.properties("p7")),
        ]
        // The worker's own user may publish, but is not on the list: its message is unauthorised.
        let worker = h.amqp
        let exchange = h.pipeline.topology.inboundExchange
        try await h.publish(messages)
        try await onOwnThread {
            let c = try AMQPConnection(configuration: worker)
            defer { c.close() }
            try c.confirmSelect()
            try c.publish(
                exchange: exchange, routingKey: key, body: valid,
                properties: PipelineHarness.properties("p8", user: nil))
            _ = try c.waitForConfirms(timeout: .seconds(10))
        }
        messages.removeAll()
        try await h.withWorker {
            try await h.waitFor("8 dead letters") { _, d in d.count >= 8 }
        }
        let reasons = h.capturedDeadLetters.compactMap { $0.header("x-peduli-reason") }.sorted()
        #expect(reasons == Self.parkCases.map(\.1.rawValue).sorted())
        for d in h.capturedDeadLetters {
            #expect(d.header("x-peduli-queue") == h.pipeline.topology.registrationsQueue)
            let detail = try #require(d.header("x-peduli-detail"))
            #expect(!detail.isEmpty && detail.count <= 200)
        }
        let fromPortal = try #require(h.capturedDeadLetters.first { $0.properties.messageId == "p4" })
        #expect(fromPortal.header("x-peduli-user-id") == "portal")
        #expect(fromPortal.body == Array("{not json".utf8))
        #expect(h.capturedEvents.isEmpty)
    }

    @Test func duplicatesReplaysAndConflicts() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(4)
        try h.roster([sponsor])
        let registration = h.samples.registration(4, sponsor: sponsor)
        let conflicting = registration.body.setting("worker.name", to: "Nama Lain")
        // The same content with other key order, white space and no schema_version is identical.
        let reordered = Array(
            ("  "
                + String(decoding: registration.body.setting("schema_version", to: nil).canonicalJSON(), as: UTF8.self)
                + "\n").utf8)
        try await h.withWorker {
            try await h.register(registration, messageID: "m-1")
            try await h.waitFor("accepted") { e, _ in e.count == 1 }
            try await h.register(registration, messageID: "m-1")  // same message id: nothing
            try await h.publish([("registration.submit", reordered, PipelineHarness.properties("m-2"))])  // replay
            try await h.publish([
                ("registration.submit", conflicting.canonicalJSON(), PipelineHarness.properties("m-3"))
            ])
            try await h.waitFor("replay and conflict") { e, d in e.count >= 2 && d.count >= 1 }
            try await Task.sleep(for: .seconds(1))
        }
        let events = h.capturedEvents
        #expect(events.count == 2)
        #expect(events.map(\.type) == ["registration.accepted", "registration.accepted"])
        #expect(events[1].json?.objectValue?["replayed"] == .bool(true))
        #expect(events[0].json?.objectValue?["replayed"] == .bool(false))
        #expect(events[1].properties.correlationId == "m-2")
        #expect(events[0].string("event_id") != events[1].string("event_id"))
        #expect(h.capturedDeadLetters.map { $0.header("x-peduli-reason") } == ["conflicting_duplicate"])
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 1)
        let log = try h.sql("SELECT outcome FROM processing_log ORDER BY id").map { try $0.string("outcome") }
        #expect(log == ["accepted", "replayed", "parked"])
    }

    @Test func delayedRetryThenSuccessAndExhaustion() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(5)
        try h.roster([sponsor])
        let registration = h.samples.registration(5, sponsor: sponsor)
        let early = h.samples.payment(5, for: registration, payer: sponsor, months: 1)
        let orphan = h.samples.payment(6, for: h.samples.registration(6, sponsor: sponsor), payer: sponsor, months: 1)
        try await h.withWorker {
            try await h.pay(early, messageID: "early")
            try await h.pay(orphan, messageID: "orphan")
            try await Task.sleep(for: .milliseconds(300))
            try await h.register(registration)
            try await h.waitFor(
                "confirmed after retry and unknown_registration after the last retry", timeout: .seconds(40)
            ) {
                e, _ in
                e.contains { $0.type == "payment.confirmed" } && e.contains { $0.type == "payment.rejected" }
            }
        }
        let rejected = try #require(h.capturedEvents.first { $0.type == "payment.rejected" })
        #expect(String(decoding: rejected.body, as: UTF8.self).contains("unknown_registration"))
        #expect(rejected.properties.correlationId == "orphan")
        let attempts = try h.sql(
            "SELECT attempt, outcome FROM processing_log WHERE message_id = 'orphan' ORDER BY attempt"
        ).map { "\(try $0.int("attempt")):\(try $0.string("outcome"))" }
        #expect(attempts == ["0:retry_scheduled", "1:retry_scheduled", "2:rejected"])
        let publisher = try h.sql("SELECT DISTINCT publisher FROM processing_log WHERE message_id = 'orphan'")
        #expect(try publisher.map { try $0.string("publisher") } == ["portal"])
    }
}
