import AMQPClient
import Foundation
import PeduliDomain
import Testing

@testable import PeduliWorker

struct OutboxMessageTests {
    static let values: [AMQPFieldValue] = [
        .bool(true), .int8(.min), .int16(.max), .int32(.min), .int64(.max), .int64(.min), .uint8(.max),
        .uint16(.max), .uint32(.max), .float(-1.5), .double(.pi), .double(-.infinity), .decimal(scale: 2, value: 16800),
        .string("Siti Aminah — Semarang ✓"), .string(""), .bytes([0, 255, 1, 128]), .timestamp(1_790_000_000), .void,
        .array([.int32(1), .string("x"), .array([])]),
        .table(["nested": .table(["deeper": .int64(-1)])]),
    ]

    @Test(arguments: values)
    func everyFieldTypeSurvivesTheOutbox(_ value: AMQPFieldValue) throws {
        let properties = AMQPProperties(headers: ["v": value])
        let decoded = try PropertiesCodec.decode(PropertiesCodec.encode(properties))
        #expect(decoded == properties)
    }

    @Test func allBasicPropertiesRoundTrip() throws {
        let properties = AMQPProperties(
            contentType: "application/json; charset=utf-8", contentEncoding: "identity",
            headers: ["x-peduli-attempt": .int32(2), "x-peduli-user-id": .string("portal")], deliveryMode: 2,
            priority: 5, correlationId: "c-1", replyTo: "r", expiration: "60000", messageId: "m-1",
            timestamp: 1_790_000_000, type: "registration.submit", userId: "portal", appId: "portal-a",
            clusterId: "c")
        #expect(try PropertiesCodec.decode(PropertiesCodec.encode(properties)) == properties)
        #expect(try PropertiesCodec.decode(PropertiesCodec.encode(AMQPProperties())) == AMQPProperties())
    }

    @Test(arguments: ["", "[]", "{\"headers\":[[\"k\",[\"?\",1]]]}", "{\"delivery_mode\":300}", "{\"headers\":[[\"k\",[\"x\",\"zz\"]]]}"])
    func damagedPropertiesAreErrorsNotCrashes(_ text: String) {
        #expect(throws: (any Error).self) { try PropertiesCodec.decode(text) }
    }

    @Test func eventsCarryTheContractsProperties() throws {
        let id = UUID()
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        let message = OutboxMessage.event(
            type: "payment.confirmed", eventID: id, body: [1], correlationID: "msg-7", occurredAt: at,
            pipeline: PipelineConfiguration())
        #expect(message.exchange == "peduli.events" && message.routingKey == "payment.confirmed")
        let p = message.properties
        #expect(p.deliveryMode == 2 && p.contentType == "application/json" && p.appId == "peduli-worker")
        #expect(p.messageId == id.uuidString.lowercased() && p.type == "payment.confirmed")
        #expect(p.correlationId == "msg-7" && p.timestamp == 1_790_000_000)
    }
}
