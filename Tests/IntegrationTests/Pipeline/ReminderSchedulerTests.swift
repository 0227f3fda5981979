import Foundation
import Logging
import PeduliDomain
import PeduliSamples
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import Testing

/// The scheduler against a real database: a simulated third of a year, a pass per day run by three
/// instances at once, and every reminder recorded and queued exactly once.
@Suite(.serialized) struct ReminderSchedulerTests {
    @Test func everyReminderOnceAcrossConcurrentPassesAndDays() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let sponsor = h.samples.sponsor(1)
        try h.roster([sponsor])
        let registrations = (0..<20).map { h.samples.registration($0, sponsor: sponsor) }
        try await h.withWorker {
            for r in registrations { try await h.register(r) }
            try await h.waitFor("20 accepted") { e, _ in e.count >= 20 }
            // Half of them pay one month (the current one).
            for (i, r) in registrations.enumerated() where i % 2 == 0 {
                try await h.pay(h.samples.payment(i, for: r, payer: sponsor, months: 1))
            }
            try await h.waitFor("10 confirmed") { e, _ in e.filter { $0.type == "payment.confirmed" }.count >= 10 }
        }
        let database = h.database
        let programme = h.programme
        let pipeline = h.pipeline
        let today = JakartaDate(Date())
        for offset in 0...130 {
            let day = today.adding(days: offset)
            // Three instances race for each day's pass.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        _ = try await onOwnThread {
                            let db = try PostgresConnection(configuration: database)
                            return try ReminderScheduler.pass(
                                on: db, asOf: day, dryRun: false, programme: programme, pipeline: pipeline,
                                logger: Logger(label: "test"))?.count ?? -1
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let rows = try h.sql(
            "SELECT registration_id::text AS r, kind, to_char(month, 'YYYY-MM') AS m FROM reminders_sent")
        var perRegistration: [String: [String]] = [:]
        for row in rows { perRegistration[try row.string("r"), default: []].append(try row.string("kind")) }
        let paid = Set(
            registrations.enumerated().filter { $0.offset % 2 == 0 }.map {
                $0.element.registrationID.uuidString.lowercased()
            })
        #expect(perRegistration.count == 20)
        for (id, kinds) in perRegistration {
            let counts = Dictionary(grouping: kinds, by: { $0 }).mapValues(\.count)
            if paid.contains(id) {
                // Due for the first unpaid month, overdue for it and the next two, then the end.
                #expect(
                    counts == ["reminder.payment_due": 1, "reminder.payment_overdue": 3, "membership.ended": 1],
                    "\(counts)")
            } else {
                #expect(
                    counts == ["reminder.payment_due": 1, "reminder.payment_overdue": 1, "membership.ended": 1],
                    "\(counts)")
            }
        }
        // Each recorded reminder has exactly one event waiting in the outbox, and every registration ended.
        let queued = try h.sql(
            "SELECT count(*) AS n FROM outbox WHERE routing_key LIKE 'reminder.%' OR routing_key = 'membership.ended'")
        #expect(try queued[0].int("n") == rows.count)
        #expect(try h.sql("SELECT count(*) AS n FROM registrations WHERE ended_at IS NULL")[0].int("n") == 0)
        // A dry run afterwards finds nothing new.
        let again = try PostgresConnection(configuration: database)
        let planned = try ReminderScheduler.pass(
            on: again, asOf: today.adding(days: 130), dryRun: true, programme: programme, pipeline: pipeline,
            logger: Logger(label: "test"))
        #expect(planned?.isEmpty == true)
    }
}
