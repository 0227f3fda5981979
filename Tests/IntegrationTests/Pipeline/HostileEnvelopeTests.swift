import AMQPClient
import Foundation
import PeduliDomain
import PeduliSamples
import PostgresClient
import Testing

@testable import PeduliWorker

/// The whole AMQP envelope as an attacker with publish rights on the inbound exchange would send it, against
/// the real broker and database: whatever the broker accepts gets exactly one outcome, and no message stops,
/// delays or takes the place of another.
@Suite(.serialized) struct HostileEnvelopeTests {
    /// Headers `depth` levels deep (the headers table is level 1), alternately arrays and tables. Built, sent
    /// and released on a thread with a large stack: the Swift value and librabbitmq's encoder recurse per level.
    static func nested(_ depth: Int, arrays: Bool) -> AMQPTable {
        var value = AMQPFieldValue.int8(1)
        for level in 0..<max(0, depth - 1) {
            value = arrays || level % 2 == 1 ? .array([value]) : .table(["t": value])
        }
        return ["h": value]
    }

    /// Publishes on a thread with a 512 MiB stack (virtual), so that headers of any depth can be built.
    static func publishDeep(
        _ h: PipelineHarness, _ make: @escaping @Sendable () -> [(String, [UInt8], AMQPProperties)]
    )
        async throws
    {
        let portal = h.portal
        let exchange = h.pipeline.topology.inboundExchange
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        let connection = try AMQPConnection(configuration: portal)
                        defer { connection.close() }
                        try connection.confirmSelect()
                        for (key, body, properties) in make() {
                            try connection.publish(
                                exchange: exchange, routingKey: key, body: body, properties: properties)
                        }
                        let nacked = try connection.waitForConfirms(timeout: .seconds(30))
                        guard nacked.isEmpty else { throw AMQPTestEnvironmentError(description: "nacked \(nacked)") }
                    })
            }
            thread.stackSize = 512 << 20
            thread.start()
        }
    }

    static func registrations(
        _ h: PipelineHarness, _ range: Range<Int>, sponsor: SampleWorkload.Sponsor
    )
        -> [(String, [UInt8], AMQPProperties)]
    {
        range.map { i in
            (
                "registration.submit", h.samples.registration(i, sponsor: sponsor).body.canonicalJSON(),
                PipelineHarness.properties("valid-\(i)")
            )
        }
    }

    /// Item 1 and 7: deep, wide and large headers, between 200 valid registrations before and 200 after. Before,
    /// 18,000 levels crashed the worker inside librabbitmq and the broker then dead-lettered all 400.
    @Test func headersBeyondTheLimitsAreParkedAloneAndEverythingElseIsDecided() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let hostile: [(id: String, headers: @Sendable () -> AMQPTable)] = [
            ("deep-arrays-18000", { HostileEnvelopeTests.nested(18_000, arrays: true) }),
            ("deep-tables-8000", { HostileEnvelopeTests.nested(8_000, arrays: false) }),
            ("deep-17", { HostileEnvelopeTests.nested(17, arrays: false) }),
            ("wide-300", { AMQPTable((0..<300).map { .init(key: "k\($0)", value: .int32(Int32($0))) }) }),
            ("large-100k", { ["big": .string(String(repeating: "x", count: 100_000))] }),
        ]
        let before = Self.registrations(h, 0..<200, sponsor: sponsor)
        let after = Self.registrations(h, 200..<400, sponsor: sponsor)
        let body = h.samples.registration(999, sponsor: sponsor).body.canonicalJSON()
        try await h.withWorker {
            try await h.publish(before)
            try await Self.publishDeep(h) {
                hostile.map { item in
                    var p = PipelineHarness.properties(item.id)
                    p.headers = item.headers()
                    return ("registration.submit", body, p)
                }
            }
            try await h.publish(after)
            try await h.waitFor("400 accepted and 5 parked", timeout: .seconds(60)) { e, d in
                e.filter { $0.type == "registration.accepted" }.count >= 400 && d.count >= hostile.count
            }
        }
        let dead = h.capturedDeadLetters
        #expect(dead.count == hostile.count, "each hostile message parked exactly once")
        for item in hostile {
            let copies = dead.filter { $0.properties.messageId == item.id }
            #expect(copies.count == 1, "\(item.id)")
            guard let copy = copies.first else { continue }
            #expect(copy.header("x-peduli-reason") == "invalid_headers")
            #expect(copy.header("x-peduli-user-id") == "portal")
            #expect((copy.header("x-peduli-detail") ?? "").count > 0)
            #expect(copy.properties.headers?["h"] == nil && copy.properties.headers?["big"] == nil)
            #expect(
                copy.properties.headers.map(AMQPWireSize.table) ?? 0 < 1_000,
                "the headers it could not keep are replaced")
        }
        let accepted = Set(
            h.capturedEvents.filter { $0.type == "registration.accepted" }.compactMap(\.properties.correlationId))
        #expect(accepted == Set((0..<400).map { "valid-\($0)" }))
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 400)
    }

    /// Item 2: a stored copy whose headers no longer fit a frame is published reduced, keeping its identity and
    /// reason; the rows behind it flow. Before, the relay retried it for ever and no event left.
    @Test func anUnpublishableRowIsReducedAndTheRowsBehindItFlow() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(2)
        try h.roster([sponsor])
        var headers: AMQPTable = ["big": .string(String(repeating: "y", count: 140_000))]
        headers["x-peduli-reason"] = .string("malformed_json")
        headers["x-peduli-detail"] = .string("not JSON")
        let stuck = OutboxMessage(
            exchange: h.pipeline.topology.deadExchange, routingKey: "registration.submit",
            properties: AMQPProperties(
                contentType: "application/json", headers: headers, deliveryMode: 2,
                messageId: "stuck-1"),
            body: Array("{".utf8))
        let db = try PostgresConnection(configuration: h.database)
        _ = try db.pipeline(OutboxMessage.enqueue([stuck], keys: h.pipeline.dataKeys!))
        try await h.withWorker {
            try await h.publish(Self.registrations(h, 0..<20, sponsor: sponsor))
            try await h.waitFor("20 accepted and the stuck row", timeout: .seconds(30)) { e, d in
                e.filter { $0.type == "registration.accepted" }.count >= 20 && !d.isEmpty
            }
        }
        let copy = try #require(h.capturedDeadLetters.first)
        #expect(copy.properties.messageId == "stuck-1")
        #expect(copy.header("x-peduli-reason") == "malformed_json")
        #expect(copy.header("x-peduli-detail")?.contains("headers removed") == true)
        #expect(copy.properties.headers?["big"] == nil)
        #expect(try h.sql("SELECT count(*) AS n FROM outbox")[0].int("n") == 0)
    }

    /// Item 3: a subscriber queue that refuses (x-max-length 0, reject-publish) gets each refused row again only
    /// after a growing delay, a bounded number of times, then the row is set aside; events of other routes are
    /// not held back. Before: 372,000 duplicates in 12 s and every later event blocked.
    @Test func refusedRowsBackOffAloneAndAreSetAsideAfterTheirAttempts() async throws {
        let h = try PipelineHarness { p, _ in
            p.outboxRetry = OutboxRetryPolicy(
                initialDelay: .milliseconds(300), maximumDelay: .seconds(2), maxAttempts: 4)
        }
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(3)
        try h.roster([sponsor])
        let full = h.prefix + ".full"
        let connection = try AMQPConnection(configuration: h.amqp)
        try connection.declareQueue(
            name: full, durable: true, arguments: ["x-max-length": .int64(0), "x-overflow": .string("reject-publish")])
        try connection.bindQueue(
            name: full, exchange: h.pipeline.topology.eventsExchange, routingKey: "registration.rejected")
        defer {
            _ = try? connection.deleteQueue(name: full)
            connection.close()
        }
        let invalid = (0..<3).map { i in
            (
                "registration.submit",
                h.samples.registration(100 + i, sponsor: sponsor).body
                    .setting("worker.gender", to: "X").canonicalJSON(), PipelineHarness.properties("bad-\(i)")
            )
        }
        try await h.withWorker {
            try await h.publish(invalid)
            try await h.waitFor("the refused rows set aside", timeout: .seconds(30)) { _, _ in
                (try? h.sql("SELECT count(*) AS n FROM outbox_set_aside")[0].int("n")) == 3
            }
            let start = ContinuousClock.now
            try await h.publish(Self.registrations(h, 0..<5, sponsor: sponsor))
            try await h.waitFor("5 accepted", timeout: .seconds(10)) { e, _ in
                e.filter { $0.type == "registration.accepted" }.count >= 5
            }
            #expect(ContinuousClock.now - start < .seconds(5), "accepted events were held back")
        }
        let rejected = h.capturedEvents.filter { $0.type == "registration.rejected" }
        // Published at most maxAttempts times each (the healthy capture queue gets every attempt).
        #expect(rejected.count >= 3 && rejected.count <= 12, "rejected copies: \(rejected.count)")
        let aside = try h.sql("SELECT reason, attempts FROM outbox_set_aside")
        #expect(try aside.map { try $0.string("reason") } == ["refused", "refused", "refused"])
        #expect(try aside.allSatisfy { try $0.int("attempts") == 4 })
        #expect(try h.sql("SELECT count(*) AS n FROM outbox")[0].int("n") == 0)
    }

    /// Item 4: junk under a portal's message id, from an unauthorised sender or malformed, claims nothing: the
    /// portal's real command with that id is decided. Before it was acknowledged as a duplicate, no event.
    @Test func parkedMessagesDoNotClaimTheirMessageID() async throws {
        let h = try PipelineHarness { p, _ in p.allowedPublishers = ["portal"] }
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(4)
        try h.roster([sponsor])
        let real = h.samples.registration(1, sponsor: sponsor).body.canonicalJSON()
        let real2 = h.samples.registration(2, sponsor: sponsor).body.canonicalJSON()
        try await h.withWorker {
            try await h.publish([
                ("registration.submit", Array("junk".utf8), PipelineHarness.properties("portal-msg-42", user: nil)),
                ("registration.submit", Array("{".utf8), PipelineHarness.properties("portal-msg-43")),
            ])
            try await h.waitFor("two parked") { _, d in d.count >= 2 }
            try await h.publish([
                ("registration.submit", real, PipelineHarness.properties("portal-msg-42")),
                ("registration.submit", real2, PipelineHarness.properties("portal-msg-43")),
            ])
            try await h.waitFor("both accepted") { e, _ in e.filter { $0.type == "registration.accepted" }.count >= 2 }
        }
        let reasons = h.capturedDeadLetters.compactMap { $0.header("x-peduli-reason") }.sorted()
        #expect(reasons == ["malformed_json", "unauthorized_publisher"])
        let unauthorized = try #require(
            h.capturedDeadLetters.first { $0.header("x-peduli-reason") == "unauthorized_publisher" })
        #expect(unauthorized.header("x-peduli-user-id") == nil, "no user_id on the original: none on the copy")
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 2)
    }

    /// Item 5: headers nested 15 levels (within the limit) survive the outbox: a parked copy keeps every
    /// property, and a payment's retry copy keeps its identity and comes back to be applied.
    @Test func nestedHeadersSurviveParkedAndRetryCopies() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(5)
        try h.roster([sponsor])
        let registration = h.samples.registration(1, sponsor: sponsor)
        let payment = h.samples.payment(1, for: registration, payer: sponsor, months: 1)
        let headers = Self.nested(15, arrays: false)
        var parked = PipelineHarness.properties("nested-bad", correlationID: "corr-n")
        parked.headers = headers
        parked.type = "registration.submit"
        parked.timestamp = 1_790_000_000
        var pay = PipelineHarness.properties("nested-pay")
        pay.headers = headers
        let messages = [
            ("registration.submit", Array("[1]".utf8), parked), ("payment.submit", payment.body.canonicalJSON(), pay),
        ]
        try await h.withWorker {
            try await h.publish(messages)
            try await Task.sleep(for: .milliseconds(500))
            try await h.register(registration)
            try await h.waitFor("payment confirmed and one parked", timeout: .seconds(30)) { e, d in
                e.contains { $0.type == "payment.confirmed" } && !d.isEmpty
            }
        }
        let copy = try #require(h.capturedDeadLetters.first)
        var expected = headers
        expected["x-peduli-reason"] = .string("malformed_json")
        #expect(copy.properties.headers?["h"] == headers["h"], "the nested header came back whole")
        #expect(copy.properties.messageId == "nested-bad" && copy.properties.correlationId == "corr-n")
        #expect(copy.properties.type == "registration.submit" && copy.properties.timestamp == 1_790_000_000)
        #expect(copy.properties.appId == "portal-test" && copy.properties.contentType == "application/json")
        #expect(copy.header("x-peduli-reason") == expected["x-peduli-reason"]?.stringValue)
        let confirmed = try #require(h.capturedEvents.first { $0.type == "payment.confirmed" })
        #expect(confirmed.properties.correlationId == "nested-pay")
    }

    /// Item 6: a NUL (or any control character) in the address, or an address over 200 characters, is a field
    /// error listed with the others, not a message that fails in the database until the broker parks it.
    @Test func controlCharactersAndLongTextAreFieldErrors() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(6)
        try h.roster([sponsor])
        let nul = h.samples.registration(1, sponsor: sponsor).body
            .setting("worker.work_location.address", to: "Jl. Pemuda\u{0}1").setting("worker.gender", to: "X")
        let long = h.samples.registration(2, sponsor: sponsor).body
            .setting("worker.work_location.address", to: .string(String(repeating: "a", count: 60_000)))
        let unit = h.samples.registration(3, sponsor: sponsor).body.setting("sponsor.unit", to: "Dinas\u{1B}[31m")
        var batch: [(String, [UInt8], AMQPProperties)] = [
            ("registration.submit", nul.canonicalJSON(), PipelineHarness.properties("nul")),
            ("registration.submit", long.canonicalJSON(), PipelineHarness.properties("long")),
            ("registration.submit", unit.canonicalJSON(), PipelineHarness.properties("unit")),
        ]
        batch += Self.registrations(h, 10..<30, sponsor: sponsor)
        let messages = batch
        try await h.withWorker {
            try await h.publish(messages)
            try await h.waitFor("3 rejected, 20 accepted") { e, _ in
                e.filter { $0.type == "registration.rejected" }.count >= 3
                    && e.filter { $0.type == "registration.accepted" }.count >= 20
            }
        }
        func codes(_ id: String) -> [String] {
            guard let event = h.capturedEvents.first(where: { $0.properties.correlationId == id }),
                case .array(let errors)? = event.json?.objectValue?["errors"]
            else { return [] }
            return errors.compactMap { e in
                guard case .string(let f)? = e.objectValue?["field"], case .string(let c)? = e.objectValue?["code"]
                else {
                    return nil
                }
                return "\(f):\(c)"
            }.sorted()
        }
        #expect(codes("nul") == ["worker.gender:invalid_value", "worker.work_location.address:invalid_address"])
        #expect(codes("long") == ["worker.work_location.address:invalid_address"])
        #expect(codes("unit") == ["sponsor.unit:invalid_value"])
        #expect(h.capturedDeadLetters.isEmpty)
        #expect(try h.sql("SELECT count(*) AS n FROM registrations")[0].int("n") == 20)
    }

    /// Item 12: an optional field sent as null is the same command as the field left out (a replay, not a
    /// conflicting duplicate); a forged x-peduli-user-id on a message without user_id does not reach the copy.
    @Test func nullEqualsAbsentAndForgedUserHeadersAreDropped() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(7)
        try h.roster([sponsor])
        let base = h.samples.registration(1, sponsor: sponsor).body.setting("worker.phone", to: nil)
            .setting("sponsor.unit", to: nil)
        let withNull = base.setting("worker.phone", to: .null).setting("sponsor.unit", to: .null)
        var forged = PipelineHarness.properties("forged", user: nil)
        forged.headers = ["x-peduli-user-id": .string("portal")]
        let forgedProperties = forged
        try await h.withWorker {
            try await h.publish([("registration.submit", withNull.canonicalJSON(), PipelineHarness.properties("first"))]
            )
            try await h.waitFor("accepted") { e, _ in e.contains { $0.type == "registration.accepted" } }
            try await h.publish([
                ("registration.submit", base.canonicalJSON(), PipelineHarness.properties("again")),
                ("registration.submit", Array("nope".utf8), forgedProperties),
            ])
            try await h.waitFor("replayed and parked") { e, d in e.count >= 2 && !d.isEmpty }
        }
        let replay = try #require(h.capturedEvents.first { $0.properties.correlationId == "again" })
        #expect(replay.type == "registration.accepted")
        #expect(replay.json?.objectValue?["replayed"] == .bool(true))
        let copy = try #require(h.capturedDeadLetters.first)
        #expect(copy.header("x-peduli-reason") == "malformed_json")
        #expect(copy.header("x-peduli-user-id") == nil, "forged header kept")
    }
}
