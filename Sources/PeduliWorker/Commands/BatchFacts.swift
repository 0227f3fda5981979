import Foundation
import PeduliDomain

/// Everything a batch's decisions need from the database, fetched by `CommandStore.lookUp` in one pipeline.
/// A plain value: the decider's tests build it by hand.
struct BatchFacts: Sendable {
    /// Inbox keys already settled (`InboxKey`), for the commands of the batch.
    var processed: Set<InboxKey> = []
    /// Commands decided before, by kind and key.
    var outcomes: [CommandKey: StoredOutcome] = [:]
    /// For a stored outcome, whether a batch member's content equals the stored one (compared in the database,
    /// which holds the content's hash only).
    var sameContent: [ContentProbe: Bool] = [:]
    var sponsors: [String: SponsorStatus] = [:]
    /// NIKs covered by another scheme.
    var coveredNIKs: Set<String> = []
    /// Each NIK's registrations not marked ended.
    var openByNIK: [String: [OpenRegistration]] = [:]
    /// The registrations the batch's payments name (rejected ones as `BatchFacts.rejectedRegistration`).
    var registrations: [UUID: RegistrationState] = [:]
    /// Receipt numbers reserved for the batch's payments, one per payment that could be confirmed.
    var receipts: [Int64] = []

    /// A rejected registration as a payment sees it: only its status matters (`registration_not_accepted`).
    static let rejectedRegistration = RegistrationState(
        status: .rejected, submittedAt: .distantPast, acceptedAt: nil,
        birthDate: JakartaDate(year: 1970, month: 1, clampingDay: 1), paidThrough: nil)
}

/// A message settles once per retry attempt: its `message_id` and attempt number.
struct InboxKey: Sendable, Hashable {
    var messageID: String
    var attempt: Int
}

/// A command's own key: `registration_id` or `payment_id` under its kind.
struct CommandKey: Sendable, Hashable {
    var kind: CommandKind
    var key: String
}

/// A command key with the content a batch member has for it.
struct ContentProbe: Sendable, Hashable {
    var command: CommandKey
    var identity: String
}

/// A command already decided: from the database (`identity` nil, compared there by hash) or earlier in the
/// same batch (compared here).
struct StoredOutcome: Sendable {
    var eventType: String
    var eventBody: String
    var identity: String?
}
