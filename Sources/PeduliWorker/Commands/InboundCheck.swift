/// Why a message was parked in `peduli.dead` instead of being decided (docs/contract.md, "What happens to each
/// message"). The raw values are the stable codes written to `x-peduli-reason`.
public enum ParkReason: String, Sendable, CaseIterable {
    case unsupportedContentType = "unsupported_content_type"
    case missingMessageID = "missing_message_id"
    case invalidMessageID = "invalid_message_id"
    case malformedJSON = "malformed_json"
    case tooLarge = "too_large"
    case invalidHeaders = "invalid_headers"
    case unauthorizedPublisher = "unauthorized_publisher"
    case conflictingDuplicate = "conflicting_duplicate"
}

/// The AMQP facts about a delivery that decide whether it may be decided at all, as plain values so the
/// checks are testable without a broker.
public struct InboundEnvelope: Sendable, Equatable {
    public var contentType: String?
    public var messageID: String?
    public var userID: String?
    public var correlationID: String?
    /// `x-peduli-attempt`, as read from the headers (trusted only on the worker's own retry copies).
    public var attemptHeader: Int?
    /// `x-peduli-user-id`, as read from the headers (trusted only on the worker's own retry copies).
    public var originalUserHeader: String?
    public var bodySize: Int
    /// Why the headers were not kept (`AMQPDelivery.headersDropped`), nil when they were.
    public var headersDropped: String?

    public init(
        contentType: String?, messageID: String?, userID: String?, correlationID: String? = nil,
        attemptHeader: Int? = nil, originalUserHeader: String? = nil, bodySize: Int, headersDropped: String? = nil
    ) {
        self.headersDropped = headersDropped
        self.contentType = contentType
        self.messageID = messageID
        self.userID = userID
        self.correlationID = correlationID
        self.attemptHeader = attemptHeader
        self.originalUserHeader = originalUserHeader
        self.bodySize = bodySize
    }
}

/// The result of the envelope checks: either a reason to park, or who sent the command and which retry
/// attempt this copy is.
public enum InboundVerdict: Sendable, Equatable {
    case park(ParkReason, detail: String)
    case accept(publisher: String?, attempt: Int)
}

/// Envelope checks, in the order they run. The order is a decision docs/contract.md leaves open: the publisher
/// is checked first (nothing from an unauthorised sender is looked at further), then the headers (a message
/// whose headers were not kept cannot be trusted with anything they say), then the idempotency key (without
/// it nothing else can be recorded safely), then content type, then size. JSON is checked by the decoder
/// afterwards.
public struct InboundCheck: Sendable {
    public var allowedPublishers: Set<String>
    public var maxMessageBytes: Int
    /// The worker's own AMQP user: only on messages RabbitMQ validated as coming from it are the retry
    /// headers trusted.
    public var workerUser: String?

    public init(allowedPublishers: Set<String>, maxMessageBytes: Int, workerUser: String?) {
        self.allowedPublishers = allowedPublishers
        self.maxMessageBytes = maxMessageBytes
        self.workerUser = workerUser
    }

    /// Who sent the command: the broker-validated `user_id`, or on the worker's own retry copies the original
    /// publisher it recorded in `x-peduli-user-id`. A header on anyone else's message is ignored (forged).
    public func publisher(of envelope: InboundEnvelope) -> String? {
        isOwnCopy(envelope) ? (envelope.originalUserHeader ?? envelope.userID) : envelope.userID
    }

    func isOwnCopy(_ envelope: InboundEnvelope) -> Bool { workerUser != nil && envelope.userID == workerUser }

    public func check(_ envelope: InboundEnvelope) -> InboundVerdict {
        let publisher = publisher(of: envelope)
        let attempt = isOwnCopy(envelope) ? max(0, envelope.attemptHeader ?? 0) : 0

        if !allowedPublishers.isEmpty {
            guard let publisher else {
                return .park(.unauthorizedPublisher, detail: "no user_id on the message")
            }
            guard allowedPublishers.contains(publisher) else {
                return .park(.unauthorizedPublisher, detail: "publisher \(Self.clip(publisher)) is not allowed")
            }
        }
        if let why = envelope.headersDropped {
            return .park(.invalidHeaders, detail: why)
        }
        guard let id = envelope.messageID, !id.isEmpty else {
            return .park(.missingMessageID, detail: "message_id is missing or empty")
        }
        if id.utf8.count > 128 {
            return .park(.invalidMessageID, detail: "message_id has \(id.utf8.count) bytes, at most 128")
        }
        if !id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            return .park(.invalidMessageID, detail: "message_id has characters outside printable ASCII")
        }
        guard let type = envelope.contentType, Self.isJSON(type) else {
            let shown = envelope.contentType.map { "content_type \(Self.clip($0))" } ?? "no content_type"
            return .park(.unsupportedContentType, detail: "\(shown); application/json expected")
        }
        if envelope.bodySize > maxMessageBytes {
            return .park(.tooLarge, detail: "body has \(envelope.bodySize) bytes, at most \(maxMessageBytes)")
        }
        return .accept(publisher: publisher, attempt: attempt)
    }

    /// `application/json`, optionally with a `charset=utf-8` parameter; case-insensitive as MIME types are.
    static func isJSON(_ contentType: String) -> Bool {
        let parts = contentType.split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.trimmingASCIIWhitespace().lowercased() }
        guard parts.first == "application/json" else { return false }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingASCIIWhitespace() }
            guard pair.count == 2, pair[0] == "charset" else { return false }
            let value = pair[1].trimmingCharacters(in: "\"")
            guard value == "utf-8" || value == "utf8" else { return false }
        }
        return true
    }

    /// Header values are the sender's words, not personal data, but are bounded so a detail stays short.
    static func clip(_ text: String) -> String {
        let printable = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(40))
        return "'\(printable)'"
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
