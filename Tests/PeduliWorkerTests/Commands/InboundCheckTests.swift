import Testing

@testable import PeduliWorker

struct InboundCheckTests {
    static let open = InboundCheck(allowedPublishers: [], maxMessageBytes: 100, workerUser: "peduli-worker")
    static let guarded = InboundCheck(allowedPublishers: ["portal"], maxMessageBytes: 100, workerUser: "peduli-worker")

    static func envelope(
        type: String? = "application/json", id: String? = "m-1", user: String? = "portal", attempt: Int? = nil,
        original: String? = nil, size: Int = 10, dropped: String? = nil
    ) -> InboundEnvelope {
        InboundEnvelope(
            contentType: type, messageID: id, userID: user, attemptHeader: attempt, originalUserHeader: original,
            bodySize: size, headersDropped: dropped)
    }

    static let parkCases: [(String, InboundEnvelope, ParkReason?)] = [
        ("plain json", envelope(), nil),
        ("json with charset", envelope(type: "application/json; charset=utf-8"), nil),
        ("json upper case charset", envelope(type: "Application/JSON;charset=\"UTF-8\""), nil),
        ("json latin1 charset", envelope(type: "application/json; charset=iso-8859-1"), .unsupportedContentType),
        ("text/plain", envelope(type: "text/plain"), .unsupportedContentType),
        ("no content type", envelope(type: nil), .unsupportedContentType),
        ("json prefix only", envelope(type: "application/jsonx"), .unsupportedContentType),
        ("no message id", envelope(id: nil), .missingMessageID),
        ("empty message id", envelope(id: ""), .missingMessageID),
        ("128 chars ok", envelope(id: String(repeating: "a", count: 128)), nil),
        ("129 chars", envelope(id: String(repeating: "a", count: 129)), .invalidMessageID),
        ("space in id", envelope(id: "a b"), .invalidMessageID),
        ("non-ascii id", envelope(id: "pesan-é"), .invalidMessageID),
        ("tilde and bang ok", envelope(id: "!~"), nil),
        ("at the size limit", envelope(size: 100), nil),
        ("one byte over", envelope(size: 101), .tooLarge),
        ("message id checked before content type", envelope(type: "text/plain", id: nil), .missingMessageID),
        ("headers not kept", envelope(dropped: "header tables nested deeper than 16 levels"), .invalidHeaders),
        (
            "headers checked before the message id", envelope(id: nil, dropped: "more than 256 header entries"),
            .invalidHeaders
        ),
    ]

    @Test(arguments: parkCases)
    func envelopeChecks(_ name: String, _ envelope: InboundEnvelope, _ expected: ParkReason?) {
        let verdict = Self.open.check(envelope)
        switch (verdict, expected) {
        case (.accept, nil): break
        case (.park(let reason, let detail), .some(let want)):
            #expect(reason == want, "\(name)")
            #expect(!detail.isEmpty && detail.count <= 200)
        default: Issue.record("\(name): got \(verdict), expected \(String(describing: expected))")
        }
    }

    static let publisherCases: [(String, InboundEnvelope, InboundVerdict)] = [
        ("allowed portal", envelope(), .accept(publisher: "portal", attempt: 0)),
        (
            "unknown user", envelope(user: "intruder"),
            .park(.unauthorizedPublisher, detail: "publisher 'intruder' is not allowed")
        ),
        ("no user id", envelope(user: nil), .park(.unauthorizedPublisher, detail: "no user_id on the message")),
        (
            "portal cannot forge retry headers", envelope(attempt: 3, original: "other"),
            .accept(publisher: "portal", attempt: 0)
        ),
        (
            "worker retry copy keeps the original publisher",
            envelope(user: "peduli-worker", attempt: 2, original: "portal"),
            .accept(publisher: "portal", attempt: 2)
        ),
        (
            "worker retry copy of an unauthorised original",
            envelope(user: "peduli-worker", attempt: 1, original: "intruder"),
            .park(.unauthorizedPublisher, detail: "publisher 'intruder' is not allowed")
        ),
        (
            "unauthorised wins over a missing id", envelope(id: nil, user: "intruder"),
            .park(.unauthorizedPublisher, detail: "publisher 'intruder' is not allowed")
        ),
    ]

    @Test(arguments: publisherCases)
    func allowedPublishers(_ name: String, _ envelope: InboundEnvelope, _ expected: InboundVerdict) {
        #expect(Self.guarded.check(envelope) == expected, "\(name)")
    }

    @Test func withoutAListEveryPublisherIsAccepted() {
        #expect(Self.open.check(Self.envelope(user: nil)) == .accept(publisher: nil, attempt: 0))
        #expect(Self.open.check(Self.envelope(user: "anyone")) == .accept(publisher: "anyone", attempt: 0))
    }

    @Test func detailsNeverEchoLongOrControlText() {
        let hostile = String(repeating: "x\u{7}", count: 500)
        guard case .park(_, let detail) = Self.guarded.check(Self.envelope(user: hostile)) else {
            Issue.record("expected a park")
            return
        }
        #expect(detail.count <= 200)
        #expect(!detail.contains("\u{7}"))
    }

    /// The parked copy's `x-peduli-user-id` is who the broker validated (or, on the worker's own retry copy,
    /// the original it recorded); a header of anyone else's is forged and ignored, absent stays absent.
    @Test(
        arguments: [
            (envelope(user: nil, original: "portal"), nil),
            (envelope(user: "intruder", original: "portal"), "intruder"),
            (envelope(user: "peduli-worker", original: "portal"), "portal"),
            (envelope(user: "peduli-worker", original: nil), "peduli-worker"),
        ] as [(InboundEnvelope, String?)])
    func publisherOfAnEnvelope(_ envelope: InboundEnvelope, _ expected: String?) {
        #expect(Self.guarded.publisher(of: envelope) == expected)
    }
}
