import Foundation

/// The event of a command decided before, sent again because the same command arrived again (same
/// `registration_id` or `payment_id`, same content): the stored decision's fields, a new `event_id` and
/// `occurred_at`, and `replayed: true` (docs/contract.md, "Replays"). The stored body is the canonical JSON the
/// first event had; only the three fields above change, so a subscriber sees the decision it saw the first time.
public struct ReplayedEvent: PeduliEvent {
    public let eventType: String
    public let eventID: UUID
    public let occurredAt: Date
    /// The first event's fields; `event_id`, `event_type` and `occurred_at` are set from this value.
    public let storedFields: JSONObject

    /// - Parameter storedBody: the first event's canonical JSON as stored with the command's outcome; a body
    ///   that is not a JSON object (never written by the worker) replays as an empty object.
    public init(eventType: String, storedBody: String, eventID: UUID, occurredAt: Date) {
        self.eventType = eventType
        self.eventID = eventID
        self.occurredAt = occurredAt
        self.storedFields = (try? JSONParser.parse(storedBody))?.objectValue ?? JSONObject()
    }

    public func bodyFields() -> JSONObject {
        var fields = storedFields
        fields["replayed"] = .bool(true)
        return fields
    }
}
