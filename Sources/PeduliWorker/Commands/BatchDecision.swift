import Foundation
import PeduliDomain

/// What deciding a batch produced: the rows `CommandStore.write` stores in the same transaction, and the
/// outbox messages (events, parked and retry copies) in the order they were decided.
struct BatchDecision: Sendable {
    /// One processing-log row per message that was not an inbox duplicate.
    struct LogRow: Sendable, Equatable {
        var messageID: String?
        var attempt: Int
        var queue: String
        var publisher: String?
        var command: CommandKind
        var key: String?
        /// `accepted`, `rejected`, `confirmed`, `replayed`, `parked` or `retry_scheduled`.
        var outcome: String
        /// Rule codes (rejections, warnings), the park reason, or `unknown_registration` for a retry.
        var reasons: [String]
        var redelivered: Bool
    }

    /// A decided command, kept so that a resend replays the same event.
    struct OutcomeRow: Sendable, Equatable {
        var command: CommandKey
        var identity: String
        var eventType: String
        var body: String
    }

    /// The months a batch's payments paid a registration through, and whether one reopened it.
    struct PaidThrough: Sendable, Equatable {
        var month: YearMonth
        var reopen: Bool
    }

    var log: [LogRow] = []
    var outbox: [OutboxMessage] = []
    var outcomes: [OutcomeRow] = []
    var registrations: [AcceptedRegistration] = []
    /// Lapsed registrations a new registration of their NIK ends.
    var ended: [UUID] = []
    var payments: [(payment: ConfirmedPayment, receipt: String)] = []
    var paidThrough: [UUID: PaidThrough] = [:]
    /// Inbox duplicates: settled before, acknowledged with nothing written.
    var duplicates: [CommandKind] = []

}
