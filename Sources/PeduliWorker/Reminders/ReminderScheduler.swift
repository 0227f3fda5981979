import AMQPClient
import Foundation
import Logging
internal import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PostgresClient

/// One reminder a pass emitted (or, in a dry run, would emit).
public struct PlannedReminder: Sendable, Equatable {
    public var registrationID: UUID
    public var kind: ReminderKind
    public var month: YearMonth
}

/// The reminder scheduler: a pass asks the domain which reminders are due on a Jakarta date for every open
/// registration and records each new one in `reminders_sent` together with its outbox event, in one
/// transaction per page, so each reminder exists once however often and on however many instances passes
/// run. A pass on day X also emits what fell due while the worker was down (catch-up). A session advisory
/// lock lets one instance run a pass at a time. `peduli-worker reminders run --as-of` calls `pass` directly.
public final class ReminderScheduler: Sendable {
    static let advisoryLockKey: Int64 = 0x7065_6475_6c69_0003
    static let pageSize = 2000

    let database: PostgresConfiguration
    let programme: ProgrammeConfiguration
    let pipeline: PipelineConfiguration
    let health: HealthState
    let logger: Logger
    let stop = Flag()

    public init(
        database: PostgresConfiguration, programme: ProgrammeConfiguration, pipeline: PipelineConfiguration,
        health: HealthState, logger: Logger
    ) {
        self.database = database
        self.programme = programme
        self.pipeline = pipeline
        self.health = health
        self.logger = logger
    }

    func run() {
        var db: PostgresConnection?
        var nextPass = ContinuousClock.now
        while !stop.isSet {
            health.heartbeat("scheduler")
            if ContinuousClock.now >= nextPass {
                do {
                    let connection = try db ?? PostgresConnection(configuration: database, logger: logger)
                    db = connection
                    let emitted = try Self.pass(
                        on: connection, asOf: JakartaDate(Date()), dryRun: false, programme: programme,
                        pipeline: pipeline, logger: logger,
                        shouldStop: {
                            // Once per page: a long pass is progress too, not a hang.
                            self.health.heartbeat("scheduler")
                            return self.stop.isSet
                        })
                    if let emitted, !emitted.isEmpty {
                        logger.info("reminder pass", metadata: ["emitted": "\(emitted.count)"])
                    }
                    nextPass = ContinuousClock.now + pipeline.schedulerInterval
                } catch {
                    logger.warning("reminder pass failed; retrying soon", metadata: ["error": "\(error)"])
                    nextPass = ContinuousClock.now + .seconds(10)
                }
            }
            blockingSleep(.milliseconds(200))
        }
    }

    /// One pass as if today were `asOf`. Returns nil when another instance holds the pass lock.
    public static func pass(
        on db: PostgresConnection, asOf: JakartaDate, dryRun: Bool, programme: ProgrammeConfiguration,
        pipeline: PipelineConfiguration, logger: Logger, now: Date = Date(), shouldStop: () -> Bool = { false }
    ) throws -> [PlannedReminder]? {
        let keys = try DataKeys.required(pipeline.dataKeys, for: "reminders")
        guard try db.tryAdvisoryLock(advisoryLockKey) else {
            return nil
        }
        defer { try? db.advisoryUnlock(advisoryLockKey) }
        var emitted: [PlannedReminder] = []
        var after = "00000000-0000-0000-0000-000000000000"
        while !shouldStop() {
            let page = try db.query(
                """
                SELECT registration_id, accepted_at, paid_through, birth_date_sealed, sponsor_nip, name_sealed,
                    nik_sealed
                FROM registrations WHERE ended_at IS NULL AND erased_at IS NULL AND registration_id > $1::uuid
                ORDER BY registration_id LIMIT $2
                """, [after, pageSize])
            guard let last = page.last else { break }
            after = try last.string("registration_id")

            var candidates: [(reminder: Reminder, event: ReminderEvent)] = []
            for row in page {
                let id = try row.uuid("registration_id")
                let birth = try keys.openText(
                    try row.bytes("birth_date_sealed"), context: SealedPlace.registration(id, "birth_date"))
                guard let birthDate = JakartaDate.parse(birth) else {
                    throw DataKeyError(.tampered, "the birth date of registration \(id.canonicalString) is not a date")
                }
                let paidThrough = try row.yearMonth("paid_through")
                let state = RegistrationReminderState(
                    acceptedAt: try row.timestamp("accepted_at"), paidThrough: paidThrough, birthDate: birthDate)
                let due = remindersDue(for: state, on: asOf, config: programme)
                guard !due.isEmpty else { continue }
                let name = try keys.openText(
                    try row.bytes("name_sealed"), context: SealedPlace.registration(id, "worker_name"))
                let nik = try keys.openText(try row.bytes("nik_sealed"), context: SealedPlace.registration(id, "nik"))
                let worker = EventWorker(
                    name: name,
                    nikMasked: NIK.parse(nik, birthDate: birthDate, reference: asOf)?.masked ?? "****************")
                for reminder in due {
                    candidates.append(
                        (
                            reminder,
                            ReminderEvent(
                                reminder, registrationID: id, sponsorNIP: try row.string("sponsor_nip"), worker: worker,
                                eventID: UUID(), occurredAt: now)
                        ))
                }
            }
            guard !candidates.isEmpty else { continue }
            if dryRun {
                let sent = try db.query(
                    """
                    SELECT registration_id::text || '/' || kind || '/' || to_char(month, 'YYYY-MM') AS k
                    FROM reminders_sent WHERE registration_id = ANY($1::uuid[])
                    """, [PostgresArray.text(candidates.map { $0.event.registrationID.canonicalString })])
                let known = Set(try sent.map { try $0.string("k") })
                for c in candidates
                where !known.contains(
                    "\(c.event.registrationID.canonicalString)/\(c.reminder.kind.rawValue)/\(c.reminder.key.month)")
                {
                    emitted.append(
                        PlannedReminder(
                            registrationID: c.event.registrationID, kind: c.reminder.kind, month: c.reminder.key.month))
                }
                continue
            }
            try db.transaction { db in
                let inserted = try db.query(
                    """
                    INSERT INTO reminders_sent (registration_id, kind, month, event_id, sent_on)
                    SELECT r, k, m, e, $5::date FROM unnest($1::uuid[], $2::text[], $3::date[], $4::uuid[]) AS u(r, k, m, e)
                    ON CONFLICT DO NOTHING RETURNING event_id
                    """,
                    [
                        PostgresArray.text(candidates.map { $0.event.registrationID.canonicalString }),
                        PostgresArray.text(candidates.map { $0.reminder.kind.rawValue }),
                        PostgresArray.text(candidates.map { $0.reminder.key.month.firstDay.description }),
                        PostgresArray.text(candidates.map { $0.event.eventID.canonicalString }),
                        asOf.description,
                    ])
                let fresh = Set(try inserted.map { try $0.uuid("event_id") })
                let chosen = candidates.filter { fresh.contains($0.event.eventID) }
                guard !chosen.isEmpty else { return }
                let messages = chosen.map { c in
                    OutboxMessage.event(
                        type: c.event.eventType, eventID: c.event.eventID, body: c.event.json(), correlationID: nil,
                        occurredAt: now, pipeline: pipeline)
                }
                let ended = chosen.filter { $0.reminder.kind == .membershipEnded }.map {
                    $0.event.registrationID.canonicalString
                }
                var statements: [PostgresStatement] = []
                if !ended.isEmpty {
                    statements.append(
                        PostgresStatement(
                            "UPDATE registrations SET ended_at = $2::date::timestamp AT TIME ZONE 'Asia/Jakarta' WHERE registration_id = ANY($1::uuid[]) AND ended_at IS NULL",
                            [PostgresArray.text(ended), asOf.description]))
                }
                statements += OutboxMessage.enqueue(messages, keys: keys)
                _ = try db.pipeline(statements)
                for c in chosen {
                    emitted.append(
                        PlannedReminder(
                            registrationID: c.event.registrationID, kind: c.reminder.kind, month: c.reminder.key.month))
                    PipelineMetrics.reminder(c.reminder.kind.rawValue)
                }
            }
        }
        // Retention (docs/operations.md, "Personal data"): memberships ended long ago lose their personal data.
        if !dryRun && !shouldStop() {
            let erased = try PersonalDataOperations(keys: keys, operatorName: "peduli-worker retention")
                .eraseAfterRetention(months: pipeline.retentionMonths, on: db)
            if erased > 0 {
                logger.notice("personal data erased after retention", metadata: ["registrations": "\(erased)"])
            }
        }
        return emitted
    }
}
