import AMQPClient
import Foundation
import PeduliDomain
import Testing

@testable import PeduliWorker

@Suite struct ParkedMessageTests {
    static let topology = PipelineConfiguration.Topology()

    static func delivery(
        _ headers: AMQPTable, userId: String? = "peduli-worker", messageID: String? = "m-1",
        routingKey: String = "registration.submit", body: String = "{}"
    ) -> AMQPDelivery {
        AMQPDelivery(
            deliveryTag: 1, redelivered: false, exchange: "peduli.dead", routingKey: routingKey, consumerTag: "c",
            properties: AMQPProperties(
                contentType: "application/json", headers: headers, deliveryMode: 2, messageId: messageID,
                timestamp: 1_700_000_000, userId: userId),
            body: Array(body.utf8))
    }

    @Test func aWorkerParkedCopyIsReadFromItsHeaders() {
        let m = ParkedMessage(
            position: 3,
            delivery: Self.delivery([
                "x-peduli-reason": .string("unauthorized_publisher"), "x-peduli-detail": .string("publisher 'x'"),
                "x-peduli-queue": .string("peduli.registrations"), "x-peduli-user-id": .string("portal"),
                "x-peduli-parked-at": .timestamp(1_800_000_000), "x-delivery-count": .int64(4),
            ]), workerUser: "peduli-worker")
        #expect(m.reason == "unauthorized_publisher")
        #expect(m.detail == "publisher 'x'")
        #expect(m.queue == "peduli.registrations")
        #expect(m.publisher == "portal")
        #expect(m.parkedAt == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(m.timeSource == "parked")
        #expect(m.deadLetterDeliveries == 4)
        #expect(!m.needsForce)
    }

    @Test func aPublisherHeaderIsBelievedOnlyOnTheWorkersOwnCopies() {
        let headers: AMQPTable = ["x-peduli-reason": .string("malformed_json"), "x-peduli-user-id": .string("portal")]
        let old = ParkedMessage(position: 1, delivery: Self.delivery(headers, userId: nil), workerUser: "peduli-worker")
        #expect(old.publisher == nil)
        #expect(old.unverifiedPublisher == "portal")
        let other = ParkedMessage(
            position: 1, delivery: Self.delivery(headers, userId: "evil"), workerUser: "peduli-worker")
        #expect(other.publisher == "evil")
    }

    @Test func aMessageRabbitMQParkedAtTheDeliveryLimitNeedsForce() {
        let m = ParkedMessage(
            position: 1,
            delivery: Self.delivery(
                [
                    "x-death": .array([
                        .table([
                            "count": .int64(20), "reason": .string("delivery_limit"),
                            "queue": .string("peduli.payments"), "time": .timestamp(1_750_000_000),
                        ]),
                        .table(["count": .int64(1), "reason": .string("expired"), "queue": .string("r.10s")]),
                    ]),
                    "x-first-death-reason": .string("expired"),
                ], userId: "portal", routingKey: "peduli.payments"), workerUser: "peduli-worker")
        #expect(m.reason == "delivery_limit")
        #expect(m.isParkedByBroker && m.needsForce)
        #expect(m.queue == "peduli.payments")
        #expect(m.publisher == "portal")
        #expect(m.workQueueDeliveries == 20)
        #expect(m.timeSource == "x-death")
        // A retry copy dead-lettered back under the queue's name is replayed under the command key.
        #expect(m.replayRoutingKey(Self.topology) == "payment.submit")
    }

    @Test func aReplayHasANewIdNoParkingHeadersAndTheOriginalPublisher() {
        let m = ParkedMessage(
            position: 1,
            delivery: Self.delivery([
                "x-peduli-reason": .string("unauthorized_publisher"), "x-peduli-user-id": .string("portal"),
                "x-peduli-attempt": .int32(2), "x-death": .array([]), "x-first-death-queue": .string("q"),
                "x-delivery-count": .int64(3), "traceparent": .string("00-abc-def-01"),
            ]), workerUser: "peduli-worker")
        let p = m.replayProperties(newMessageID: "new-1", publisherUser: "peduli-worker")
        #expect(p.messageId == "new-1")
        #expect(p.userId == "peduli-worker")
        #expect(p.headers?.keys.sorted() == ["traceparent", "x-peduli-replay-of", "x-peduli-user-id"])
        #expect(p.headers?["x-peduli-user-id"]?.stringValue == "portal")
        #expect(p.headers?["x-peduli-replay-of"]?.stringValue == "m-1")
        #expect(p.timestamp == 1_700_000_000)
        // The worker reads it as the portal's command, attempt 0.
        let check = InboundCheck(allowedPublishers: ["portal"], maxMessageBytes: 65_536, workerUser: "peduli-worker")
        let envelope = InboundEnvelope(
            contentType: p.contentType, messageID: p.messageId, userID: p.userId,
            attemptHeader: p.headers?["x-peduli-attempt"]?.int64Value.map { Int($0) },
            originalUserHeader: p.headers?["x-peduli-user-id"]?.stringValue, bodySize: 2)
        #expect(check.check(envelope) == .accept(publisher: "portal", attempt: 0))
    }

    @Test func aReplayOfAMessageWithoutPublisherHasNoUserID() {
        let m = ParkedMessage(
            position: 1, delivery: Self.delivery(["x-peduli-reason": .string("missing_message_id")], messageID: nil),
            workerUser: "peduli-worker")
        let p = m.replayProperties(newMessageID: "n", publisherUser: "peduli-worker")
        #expect(p.userId == nil)
        #expect(p.headers?["x-peduli-replay-of"] == nil)
    }

    @Test func selectionByIdPositionAndReason() throws {
        let messages = [("a", "too_large"), ("b", "malformed_json"), ("a", "too_large")].enumerated().map {
            ParkedMessage(
                position: $0.offset + 1,
                delivery: Self.delivery(["x-peduli-reason": .string($0.element.1)], messageID: $0.element.0),
                workerUser: nil)
        }
        #expect(try DeadLetters.select(.ids(["a"]), from: messages).map(\.position) == [1, 3])
        #expect(try DeadLetters.select(.ids(["#2", "b"]), from: messages).map(\.position) == [2])
        #expect(try DeadLetters.select(.reason("too_large"), from: messages).map(\.position) == [1, 3])
        #expect(throws: DeadLetters.SelectionError.self) { try DeadLetters.select(.ids(["#9"]), from: messages) }
    }

    @Test func theFingerprintFollowsTheCommandNotTheRead() {
        let a = ParkedMessage(position: 1, delivery: Self.delivery(["x-delivery-count": .int64(1)]), workerUser: nil)
        let b = ParkedMessage(position: 7, delivery: Self.delivery(["x-delivery-count": .int64(9)]), workerUser: nil)
        let c = ParkedMessage(position: 1, delivery: Self.delivery([:], body: "{\"x\":1}"), workerUser: nil)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
        #expect(a.fingerprint.count == 32)
    }
}

@Suite struct BodyMaskingTests {
    @Test func noFullNIKPhoneAddressOrBirthDate() {
        let body = """
            {"registration_id":"0b6f7e7c-2f55-4b8e-9b7b-1f0b2f9a7a11","sponsor":{"nip":"198503152010011002"},
            "worker":{"nik":"3374015203800001","name":"Siti Aminah","birth_date":"1980-03-12","phone":"081234567890",
            "work_location":{"kecamatan":"337401","address":"Jl. Pemuda 1"}},"note":"call 6281234567890 please"}
            """
        let masked = BodyMasking.masked(Array(body.utf8))
        #expect(masked.contains("3374********0001"))
        for secret in ["3374015203800001", "081234567890", "Jl. Pemuda", "1980-03-12", "6281234567890"] {
            #expect(!masked.contains(secret), "\(secret) in \(masked)")
        }
        #expect(masked.contains("198503152010011002"))
        #expect(masked.contains("Siti Aminah"))
        #expect(masked.contains("(address, 12 characters)"))
        #expect(masked.contains("337401"))
    }

    @Test func aBodyThatIsNotJSONIsWithheld() {
        #expect(BodyMasking.masked(Array("nik=3374015203800001".utf8)) == "(20 bytes, not JSON: withheld)")
    }
}
