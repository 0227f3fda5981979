import AMQPClient
import Foundation
import Logging
import PeduliDomain
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import Testing

/// W3C trace context through the real broker: a command's `traceparent` / `tracestate` reach its event, its
/// parked copy and (through the retry queues) the event of a payment decided after its retries; an invalid
/// `traceparent` is not passed on; a reminder carries none.
@Suite(.serialized) struct TraceContextPipelineTests {
    static let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    static let state = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"

    static func properties(_ id: String, traceparent: String, tracestate: String? = nil) -> AMQPProperties {
        var p = PipelineHarness.properties(id)
        var headers: AMQPTable = ["traceparent": .string(traceparent)]
        if let tracestate { headers["tracestate"] = .string(tracestate) }
        p.headers = headers
        return p
    }

    @Test func traceContextTravelsWithEventsParkedAndRetryCopies() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let accepted = h.samples.registration(1, sponsor: sponsor)
        let invalid = h.samples.registration(2, sponsor: sponsor)
        let unknown = h.samples.registration(3, sponsor: sponsor)  // never registered: the payment retries
        let waiting = h.samples.payment(1, for: unknown, payer: sponsor, months: 1)
        let t = h.pipeline.topology
        let longState = (0..<40).map { "k\($0)=" + String(repeating: "v", count: 20) }.prefix(32).joined(separator: ",")
        try await h.withWorker {
            try await h.publish([
                (
                    t.registrationsRoutingKey, accepted.body.canonicalJSON(),
                    Self.properties(
                        "reg-traced", traceparent: Self.parent, tracestate: " congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")
                ),
                (
                    t.registrationsRoutingKey, invalid.body.canonicalJSON(),
                    Self.properties(
                        "reg-junk-trace", traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
                        tracestate: "congo=1")
                ),
                (
                    t.registrationsRoutingKey, Array("{not json".utf8),
                    Self.properties("parked-traced", traceparent: Self.parent, tracestate: Self.state)
                ),
                (
                    t.paymentsRoutingKey, waiting.body.canonicalJSON(),
                    Self.properties("pay-traced", traceparent: Self.parent, tracestate: longState)
                ),
            ])
            // The payment goes through both retry queues (1 s, 2 s) before it is rejected.
            try await h.waitFor("two registrations, a parked copy, a rejected payment", timeout: .seconds(60)) { e, d in
                e.filter { $0.type == "registration.accepted" }.count == 2 && d.count == 1
                    && e.contains { $0.type == "payment.rejected" }
            }
        }
        let events = h.capturedEvents
        let traced = try #require(events.first { $0.properties.correlationId == "reg-traced" })
        #expect(traced.header("traceparent") == Self.parent)
        #expect(traced.header("tracestate") == Self.state)
        #expect(Set(traced.properties.headers?.keys ?? []) == ["traceparent", "tracestate"])

        let junk = try #require(events.first { $0.properties.correlationId == "reg-junk-trace" })
        #expect(junk.properties.headers?["traceparent"] == nil)
        #expect(junk.properties.headers?["tracestate"] == nil)

        let parked = try #require(h.capturedDeadLetters.first)
        #expect(parked.properties.messageId == "parked-traced")
        #expect(parked.header("traceparent") == Self.parent)
        #expect(parked.header("tracestate") == Self.state)
        #expect(parked.header("x-peduli-reason") == "malformed_json")

        // Through two retry copies: the context arrives on the final event, tracestate cut to 512 characters.
        let rejected = try #require(events.first { $0.type == "payment.rejected" })
        #expect(rejected.properties.correlationId == "pay-traced")
        #expect(rejected.header("traceparent") == Self.parent)
        let carried = try #require(rejected.header("tracestate"))
        #expect(carried.utf8.count <= 512 && longState.hasPrefix(carried) && carried.count > 400)
    }

    @Test func aReminderCarriesNoTraceContext() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let registration = h.samples.registration(1, sponsor: sponsor)
        try await h.withWorker {
            try await h.publish([
                (
                    h.pipeline.topology.registrationsRoutingKey, registration.body.canonicalJSON(),
                    Self.properties("reg-traced", traceparent: Self.parent, tracestate: Self.state)
                )
            ])
            try await h.waitFor("registration.accepted") { e, _ in e.contains { $0.type == "registration.accepted" } }
            // A pass 40 days on: the new registration's first payment is overdue; the relay publishes it.
            let database = h.database, programme = h.programme, pipeline = h.pipeline
            let asOf = JakartaDate(Date()).adding(days: 40)
            let planned = try await onOwnThread {
                let db = try PostgresConnection(configuration: database)
                return try ReminderScheduler.pass(
                    on: db, asOf: asOf, dryRun: false, programme: programme, pipeline: pipeline,
                    logger: Logger(label: "test"))?.count ?? 0
            }
            #expect(planned > 0)
            try await h.waitFor("a reminder") { e, _ in e.contains { !$0.type.hasPrefix("registration.") } }
        }
        let reminders = h.capturedEvents.filter { !$0.type.hasPrefix("registration.") }
        #expect(!reminders.isEmpty)
        for reminder in reminders {
            #expect(reminder.properties.headers?["traceparent"] == nil)
            #expect(reminder.properties.headers?["tracestate"] == nil)
        }
    }
}
