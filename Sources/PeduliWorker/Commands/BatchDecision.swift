import Foundation
import PeduliDomain

/// What deciding a batch produced: the rows `CommandStore.write` stores in the same transaction, and the
/// outbox messages (events, parked and retry copies) in the order they were decided.
public struct BatchDecision: Sendable {
    /// One processing-log row per message that was not an inbox duplicate.
    public struct LogRow: Sendable, Equatable {
        public var messageID: String?
        public var attempt: Int
        public var queue: String
        public var publisher: String?
        public var command: CommandKind
        public var key: String?
        /// `accepted`, `rejected`, `confirmed`, `replayed`, `parked` or `retry_scheduled`.
        public var outcome: String
        /// Rule codes (rejections, warnings), the park reason, or `unknown_registration` for a retry.
        public var reasons: [String]
        public var redelivered: Bool
    }

    /// A decided command, kept so that a resend replays the same event.
    public struct OutcomeRow: Sendable, Equatable {
        public var command: CommandKey
        public var identity: String
        public var eventType: String
        public var body: String
    }

    /// The months a batch's payments paid a registration through, and whether one reopened it.
    public struct PaidThrough: Sendable, Equatable {
        public var month: YearMonth
        public var reopen: Bool
    }

    public var log: [LogRow] = []
    public var outbox: [OutboxMessage] = []
    public var outcomes: [OutcomeRow] = []
    public var registrations: [AcceptedRegistration] = []
    /// Lapsed registrations a new registration of their NIK ends.
    public var ended: [UUID] = []
    public var payments: [(payment: ConfirmedPayment, receipt: String)] = []
    public var paidThrough: [UUID: PaidThrough] = [:]
    /// Inbox duplicates: settled before, acknowledged with nothing written.
    public var duplicates: [CommandKind] = []

    public init() {}
}
