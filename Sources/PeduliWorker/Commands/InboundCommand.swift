import AMQPClient
import Foundation
import PeduliDomain

/// Which command a work queue carries.
public enum CommandKind: String, Sendable, Hashable {
    case registration
    case payment
}

/// A delivery and the kind of command its queue carries. The consumer knows the queue each of its consumer
/// tags reads (it subscribed them), so the kind travels with the delivery instead of being parsed from a tag.
public struct InboundDelivery: Sendable {
    public var kind: CommandKind
    public var delivery: AMQPDelivery

    public init(kind: CommandKind, delivery: AMQPDelivery) {
        self.kind = kind
        self.delivery = delivery
    }
}

/// A delivery after every check that needs no database: its envelope read, its body parsed and validated
/// into a draft, or the reason it is parked.
public struct InboundCommand: Sendable {
    /// What the envelope says, kept for the processing log, the event's correlation and the copies.
    public struct Context: Sendable {
        public var queue: String
        public var kind: CommandKind
        /// The inbox key's id: the validated `message_id`, or for a parked message the id when it is printable
        /// (for the log only: a parked message claims no id).
        public var messageID: String?
        /// The validated publisher (`user_id`, or the original one a retry copy carries).
        public var publisher: String?
        /// The retry attempt (0 for a command from its portal).
        public var attempt: Int
        public var correlationID: String?
        public var delivery: AMQPDelivery
    }

    public enum Body: Sendable {
        case park(ParkReason, detail: String)
        /// `identity` is the canonical form of the body that decides whether a resend is the same command.
        case registration(RegistrationDraft, identity: String)
        case payment(PaymentDraft, identity: String)
    }

    public var context: Context
    public var body: Body
}
