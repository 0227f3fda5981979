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

    /// Through the outbox's two columns as `OutboxMessage.enqueue` writes them and the relay reads them.
    static func stored(_ p: AMQPProperties) throws -> AMQPProperties {
        let message = OutboxMessage(exchange: "x", routingKey: "k", properties: p, body: [])
        return try PropertiesCodec.restore(json: PropertiesCodec.encode(p), wireHeaders: message.encodedHeaders)
    }

    @Test(arguments: values + [.stringBytes([0xC3, 0x28])])
    func everyFieldTypeSurvivesTheOutbox(_ value: AMQPFieldValue) throws {
        let properties = AMQPProperties(headers: ["v": value])
        #expect(try Self.stored(properties) == properties)
    }

    /// 25 levels made the JSON form unreadable (the parser's depth limit) and the copy left with no properties.
    @Test(arguments: [1, 16, 25, 60])
    func nestedHeadersSurviveTheOutbox(_ depth: Int) throws {
        var value = AMQPFieldValue.string("leaf")
        for level in 0..<depth { value = level % 2 == 0 ? .table(["t": value]) : .array([value]) }
        let properties = AMQPProperties(
            headers: ["deep": value, "x-peduli-reason": .string("invalid_headers")],
            deliveryMode: 2, messageId: "m-1", userId: nil)
        #expect(try Self.stored(properties) == properties)
    }

    @Test func oldRowsWithJSONHeadersStillRead() throws {
        let json = "{\"delivery_mode\":2,\"headers\":[[\"x-peduli-attempt\",[\"I\",2]]],\"message_id\":\"m\"}"
        let p = try PropertiesCodec.restore(json: json, wireHeaders: nil)
        #expect(p.headers?["x-peduli-attempt"] == .int32(2) && p.messageId == "m")
    }

    @Test func reducedCopyKeepsIdentityReasonAndTrace() {
        let message = OutboxMessage(
            exchange: "peduli.dead", routingKey: "k",
            properties: AMQPProperties(
                headers: [
                    "big": .string(String(repeating: "a", count: 100)), "x-peduli-reason": .string("too_large"),
                    "x-peduli-detail": .string("body has 70000 bytes"), "traceparent": .string("00-a-b-01"),
                ],
                messageId: "m-9"),
            body: [1])
        let reduced = message.reduced(note: "headers removed")
        #expect(reduced.properties.headers?.keys == ["x-peduli-reason", "x-peduli-detail", "traceparent"])
        #expect(reduced.properties.headers?["x-peduli-detail"] == .string("body has 70000 bytes; headers removed"))
        #expect(reduced.properties.messageId == "m-9" && reduced.body == [1])
    }

    @Test func allBasicPropertiesRoundTrip() throws {
        let properties = AMQPProperties(
            contentType: "application/json; charset=utf-8", contentEncoding: "identity",
            headers: ["x-peduli-attempt": .int32(2), "x-peduli-user-id": .string("portal")], deliveryMode: 2,
            priority: 5, correlationId: "c-1", replyTo: "r", expiration: "60000", messageId: "m-1",
            timestamp: 1_790_000_000, type: "registration.submit", userId: "portal", appId: "portal-a",
            clusterId: "c")
        #expect(try Self.stored(properties) == properties)
        #expect(try Self.stored(AMQPProperties()) == AMQPProperties())
    }

    @Test(arguments: [
        "", "[]", "{\"headers\":[[\"k\",[\"?\",1]]]}", "{\"delivery_mode\":300}",
        "{\"headers\":[[\"k\",[\"x\",\"zz\"]]]}",
    ])
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
