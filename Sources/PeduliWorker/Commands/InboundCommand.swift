import AMQPClient
import Foundation
import PeduliDomain

/// Which command a work queue carries.
enum CommandKind: String, Sendable, Hashable {
    case registration
    case payment
}

/// A delivery and the kind of command its queue carries. The consumer knows the queue each of its consumer
/// tags reads (it subscribed them), so the kind travels with the delivery instead of being parsed from a tag.
struct InboundDelivery: Sendable {
    var kind: CommandKind
    var delivery: AMQPDelivery
}

/// A delivery after every check that needs no database: its envelope read, its body parsed and validated
/// into a draft, or the reason it is parked.
struct InboundCommand: Sendable {
    /// What the envelope says, kept for the processing log, the event's correlation and the copies.
    struct Context: Sendable {
        var queue: String
        var kind: CommandKind
        /// The inbox key's id: the validated `message_id`, or for a parked message the id when it is printable
        /// (for the log only: a parked message claims no id).
        var messageID: String?
        /// The validated publisher (`user_id`, or the original one a retry copy carries).
        var publisher: String?
        /// The retry attempt (0 for a command from its portal).
        var attempt: Int
        var correlationID: String?
        var delivery: AMQPDelivery
    }

    enum Body: Sendable {
        case park(ParkReason, detail: String)
        /// `identity` is the canonical form of the body that decides whether a resend is the same command.
        case registration(RegistrationDraft, identity: String)
        case payment(PaymentDraft, identity: String)
    }

    var context: Context
    var body: Body
}
