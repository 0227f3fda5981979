import Foundation
import PeduliDomain

/// Everything a batch's decisions need from the database, fetched by `CommandStore.lookUp` in one pipeline.
/// A plain value: the decider's tests build it by hand.
public struct BatchFacts: Sendable {
    /// Inbox keys already settled (`InboxKey`), for the commands of the batch.
    public var processed: Set<InboxKey> = []
    /// Commands decided before, by kind and key.
    public var outcomes: [CommandKey: StoredOutcome] = [:]
    /// For a stored outcome, whether a batch member's content equals the stored one (compared in the database,
    /// which holds the content's hash only).
    public var sameContent: [ContentProbe: Bool] = [:]
    public var sponsors: [String: SponsorStatus] = [:]
    /// NIKs covered by another scheme.
    public var coveredNIKs: Set<String> = []
    /// Each NIK's registrations not marked ended.
    public var openByNIK: [String: [OpenRegistration]] = [:]
    /// The registrations the batch's payments name (rejected ones as `BatchFacts.rejectedRegistration`).
    public var registrations: [UUID: RegistrationState] = [:]
    /// Receipt numbers reserved for the batch's payments, one per payment that could be confirmed.
    public var receipts: [Int64] = []

    public init() {}

    /// A rejected registration as a payment sees it: only its status matters (`registration_not_accepted`).
    public static let rejectedRegistration = RegistrationState(
        status: .rejected, submittedAt: .distantPast, acceptedAt: nil,
        birthDate: JakartaDate(year: 1970, month: 1, clampingDay: 1), paidThrough: nil)
}

/// A message settles once per retry attempt: its `message_id` and attempt number.
public struct InboxKey: Sendable, Hashable {
    public var messageID: String
    public var attempt: Int

    public init(messageID: String, attempt: Int) {
        self.messageID = messageID
        self.attempt = attempt
    }
}

/// A command's own key: `registration_id` or `payment_id` under its kind.
public struct CommandKey: Sendable, Hashable {
    public var kind: CommandKind
    public var key: String

    public init(kind: CommandKind, key: String) {
        self.kind = kind
        self.key = key
    }
}

/// A command key with the content a batch member has for it.
public struct ContentProbe: Sendable, Hashable {
    public var command: CommandKey
    public var identity: String

    public init(command: CommandKey, identity: String) {
        self.command = command
        self.identity = identity
    }
}

/// A command already decided: from the database (`identity` nil, compared there by hash) or earlier in the
/// same batch (compared here).
public struct StoredOutcome: Sendable {
    public var eventType: String
    public var eventBody: String
    public var identity: String?

    public init(eventType: String, eventBody: String, identity: String?) {
        self.eventType = eventType
        self.eventBody = eventBody
        self.identity = identity
    }
}
