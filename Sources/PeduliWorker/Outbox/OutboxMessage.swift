import AMQPClient
import Foundation
internal import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PostgresClient

/// One message the worker will publish: an event, a parked command, or a delayed-retry copy. Every one of
/// them is written to the `outbox` table in the transaction that decided it and published by the relay
/// afterwards, so "decided" and "will be published" can never disagree.
public struct OutboxMessage: Sendable, Equatable {
    public var exchange: String
    public var routingKey: String
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(exchange: String, routingKey: String, properties: AMQPProperties, body: [UInt8]) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.properties = properties
        self.body = body
    }
}

/// Stores the AMQP properties other than the headers as flat JSON text in the outbox (`properties`); the
/// headers go to their own column in AMQP's wire form (`OutboxMessage.insert`). Headers used to be JSON here
/// too, three JSON levels per table level, and a header nested 25 levels was more than the JSON parser reads:
/// the relay then published the copy with no properties at all. The wire form reads back whatever the nesting.
///
/// `decode` still reads headers written as JSON by earlier versions: a field value as `[type, payload]` with
/// the AMQP 0-9-1 type letter RabbitMQ uses.
public enum PropertiesCodec {
    public struct DecodingError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ p: AMQPProperties) -> String {
        var o = JSONObject()
        o["content_type"] = p.contentType.map(JSONValue.string)
        o["content_encoding"] = p.contentEncoding.map(JSONValue.string)
        o["delivery_mode"] = p.deliveryMode.map { .int(Int64($0)) }
        o["priority"] = p.priority.map { .int(Int64($0)) }
        o["correlation_id"] = p.correlationId.map(JSONValue.string)
        o["reply_to"] = p.replyTo.map(JSONValue.string)
        o["expiration"] = p.expiration.map(JSONValue.string)
        o["message_id"] = p.messageId.map(JSONValue.string)
        o["timestamp"] = p.timestamp.map { .string(String($0)) }
        o["type"] = p.type.map(JSONValue.string)
        o["user_id"] = p.userId.map(JSONValue.string)
        o["app_id"] = p.appId.map(JSONValue.string)
        o["cluster_id"] = p.clusterId.map(JSONValue.string)
        return JSONValue.object(o).canonicalString()
    }

    /// The properties as the relay reads them back from the two columns: the JSON text and, when not NULL, the
    /// headers in wire form (which win over headers in the JSON, written by earlier versions).
    public static func restore(json: String, wireHeaders: [UInt8]?) throws -> AMQPProperties {
        var p = try decode(json)
        if let wireHeaders { p.headers = try AMQPWireCodec.decode(wireHeaders) }
        return p
    }

    public static func decode(_ text: String) throws -> AMQPProperties {
        guard case .object(let o) = try JSONParser.parse(text) else {
            throw DecodingError(description: "not an object")
        }
        func string(_ key: String) throws -> String? {
            switch o[key] {
            case nil, .null: return nil
            case .string(let s): return s
            default: throw DecodingError(description: "\(key) is not a string")
            }
        }
        func small(_ key: String) throws -> UInt8? {
            switch o[key] {
            case nil, .null: return nil
            case .int(let i): if let v = UInt8(exactly: i) { return v }
            default: break
            }
            throw DecodingError(description: "\(key) is not a small integer")
        }
        var p = AMQPProperties()
        p.contentType = try string("content_type")
        p.contentEncoding = try string("content_encoding")
        if let h = o["headers"] { p.headers = try decodeTable(h) }
        p.deliveryMode = try small("delivery_mode")
        p.priority = try small("priority")
        p.correlationId = try string("correlation_id")
        p.replyTo = try string("reply_to")
        p.expiration = try string("expiration")
        p.messageId = try string("message_id")
        if let t = try string("timestamp") {
            guard let v = UInt64(t) else { throw DecodingError(description: "timestamp is not an integer") }
            p.timestamp = v
        }
        p.type = try string("type")
        p.userId = try string("user_id")
        p.appId = try string("app_id")
        p.clusterId = try string("cluster_id")
        return p
    }

    static func encode(table: AMQPTable) -> JSONValue {
        .array(table.entries.map { .array([.string($0.key), encode(value: $0.value)]) })
    }

    static func encode(value: AMQPFieldValue) -> JSONValue {
        func tagged(_ tag: String, _ payload: JSONValue) -> JSONValue { .array([.string(tag), payload]) }
        switch value {
        case .bool(let v): return tagged("t", .bool(v))
        case .int8(let v): return tagged("b", .int(Int64(v)))
        case .int16(let v): return tagged("s", .int(Int64(v)))
        case .int32(let v): return tagged("I", .int(Int64(v)))
        case .int64(let v): return tagged("l", .int(v))
        case .uint8(let v): return tagged("B", .int(Int64(v)))
        case .uint16(let v): return tagged("u", .int(Int64(v)))
        case .uint32(let v): return tagged("i", .int(Int64(v)))
        case .float(let v): return tagged("f", .string(String(v.bitPattern)))
        case .double(let v): return tagged("d", .string(String(v.bitPattern)))
        case .decimal(let scale, let v): return tagged("D", .array([.int(Int64(scale)), .int(Int64(v))]))
        case .string(let v): return tagged("S", .string(v))
        case .bytes(let v): return tagged("x", .string(Hex.encode(v)))
        case .stringBytes(let v): return tagged("Sx", .string(Hex.encode(v)))
        case .array(let v): return tagged("A", .array(v.map(encode(value:))))
        case .table(let v): return tagged("F", encode(table: v))
        case .timestamp(let v): return tagged("T", .string(String(v)))
        case .void: return tagged("V", .null)
        }
    }

    static func decodeTable(_ json: JSONValue) throws -> AMQPTable {
        guard case .array(let entries) = json else { throw DecodingError(description: "table is not a list") }
        return AMQPTable(
            try entries.map { entry in
                guard case .array(let pair) = entry, pair.count == 2, case .string(let key) = pair[0] else {
                    throw DecodingError(description: "bad table entry")
                }
                return AMQPTable.Entry(key: key, value: try decodeValue(pair[1]))
            })
    }

    static func decodeValue(_ json: JSONValue) throws -> AMQPFieldValue {
        guard case .array(let pair) = json, pair.count == 2, case .string(let tag) = pair[0] else {
            throw DecodingError(description: "bad field value")
        }
        let payload = pair[1]
        func int<T: FixedWidthInteger>(_: T.Type) throws -> T {
            guard case .int(let i) = payload, let v = T(exactly: i) else {
                throw DecodingError(description: "bad \(tag) value")
            }
            return v
        }
        func bits<T: FixedWidthInteger>(_: T.Type) throws -> T {
            guard case .string(let s) = payload, let v = T(s) else {
                throw DecodingError(description: "bad \(tag) value")
            }
            return v
        }
        switch tag {
        case "t":
            guard case .bool(let b) = payload else { throw DecodingError(description: "bad t value") }
            return .bool(b)
        case "b": return .int8(try int(Int8.self))
        case "s": return .int16(try int(Int16.self))
        case "I": return .int32(try int(Int32.self))
        case "l": return .int64(try int(Int64.self))
        case "B": return .uint8(try int(UInt8.self))
        case "u": return .uint16(try int(UInt16.self))
        case "i": return .uint32(try int(UInt32.self))
        case "f": return .float(Float(bitPattern: try bits(UInt32.self)))
        case "d": return .double(Double(bitPattern: try bits(UInt64.self)))
        case "D":
            guard case .array(let parts) = payload, parts.count == 2, case .int(let s) = parts[0],
                case .int(let v) = parts[1], let scale = UInt8(exactly: s), let value = UInt32(exactly: v)
            else { throw DecodingError(description: "bad D value") }
            return .decimal(scale: scale, value: value)
        case "S":
            guard case .string(let s) = payload else { throw DecodingError(description: "bad S value") }
            return .string(s)
        case "x":
            guard case .string(let s) = payload, let bytes = unhex(s) else {
                throw DecodingError(description: "bad x value")
            }
            return .bytes(bytes)
        case "Sx":
            guard case .string(let s) = payload, let bytes = unhex(s) else {
                throw DecodingError(description: "bad Sx value")
            }
            return .stringBytes(bytes)
        case "A":
            guard case .array(let items) = payload else { throw DecodingError(description: "bad A value") }
            return .array(try items.map(decodeValue))
        case "F": return .table(try decodeTable(payload))
        case "T": return .timestamp(try bits(UInt64.self))
        case "V": return .void
        default: throw DecodingError(description: "unknown field type \(tag)")
        }
    }

    /// The bytes of hexadecimal text (either case); nil for anything else.
    static func unhex(_ text: String) -> [UInt8]? { Hex.decode(text.utf8) }
}

extension OutboxMessage {
    /// What a row is, for the metrics: an event, a parked copy (to the dead exchange) or a retry copy (to a delay
    /// queue through the default exchange).
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case event
        case parked
        case retry
    }

    func kind(in topology: PipelineConfiguration.Topology) -> Kind {
        if exchange == topology.deadExchange { return .parked }
        if exchange.isEmpty { return .retry }
        return .event
    }

    /// An event for `peduli.events` with the properties docs/contract.md requires: persistent, JSON, `message_id` =
    /// `event_id`, `type` and routing key = `event_type`, `app_id`, `timestamp`, the answered command's
    /// correlation id when there is one, and its trace context (`traceparent`, `tracestate`) when it had a
    /// valid one; no headers otherwise (a reminder has no command, so no trace context).
    static func event(
        type: String, eventID: UUID, body: [UInt8], correlationID: String?, occurredAt: Date,
        pipeline: PipelineConfiguration, trace: TraceContext? = nil
    ) -> OutboxMessage {
        var properties = AMQPProperties(
            contentType: "application/json", deliveryMode: 2, correlationId: correlationID,
            messageId: eventID.canonicalString,
            timestamp: UInt64(max(0, occurredAt.timeIntervalSince1970)), type: type, appId: pipeline.appID)
        properties.headers = trace?.headers
        return OutboxMessage(
            exchange: pipeline.topology.eventsExchange, routingKey: type, properties: properties, body: body)
    }

    /// The statements every writer of the outbox runs in its transaction: one insert of the messages in their
    /// order, and the NOTIFY that wakes the relay at commit. Nothing for no messages. Bodies are stored sealed
    /// (events name workers; parked copies are whole commands), bound to the row's stored properties.
    static func enqueue(_ messages: [OutboxMessage], keys: DataKeys) -> [PostgresStatement] {
        guard !messages.isEmpty else { return [] }
        return [insert(messages, keys: keys), OutboxRelay.wakeUp]
    }

    /// One statement that writes many messages to the outbox, keeping their order. The headers are stored
    /// encoded as on the wire (NULL when there are none).
    private static func insert(_ o: [OutboxMessage], keys: DataKeys) -> PostgresStatement {
        let properties = o.map { PropertiesCodec.encode($0.properties) }
        return PostgresStatement(
            """
            INSERT INTO outbox (exchange, routing_key, properties, headers, body, sealed)
            SELECT e, r, p, decode(h, 'hex'), decode(b, 'hex'), true
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(e, r, p, h, b, n)
            ORDER BY n
            """,
            [
                PostgresArray.text(o.map(\.exchange)), PostgresArray.text(o.map(\.routingKey)),
                PostgresArray.text(properties),
                PostgresArray.text(o.map { $0.encodedHeaders.map(PostgresArray.hex) }),
                PostgresArray.text(
                    zip(o, properties).map { message, text in
                        PostgresArray.hex(keys.seal(message.body, context: SealedPlace.outbox(properties: text)))
                    }),
            ])
    }

    /// The headers in AMQP's wire form. Every table the worker writes came from a delivery within
    /// `AMQPHeaderLimits` or was built here, so librabbitmq's encoder cannot fail on it; if it ever did, the
    /// copy keeps its identity and reason headers only.
    var encodedHeaders: [UInt8]? {
        guard let headers = properties.headers else { return nil }
        if let bytes = try? AMQPWireCodec.encode(headers) { return bytes }
        return try? AMQPWireCodec.encode(Self.essentialHeaders(of: headers, note: "headers could not be encoded"))
    }

    /// What a copy keeps when its headers cannot go out whole: the worker's own `x-peduli-*` headers (reason,
    /// detail, queue, original publisher, attempt) and the trace context, with `note` as the detail.
    static func essentialHeaders(of headers: AMQPTable, note: String) -> AMQPTable {
        var kept = AMQPTable(
            headers.entries.filter {
                $0.key.hasPrefix("x-peduli-") || $0.key == "traceparent" || $0.key == "tracestate"
            })
        let detail = kept["x-peduli-detail"]?.stringValue.map { $0 + "; " } ?? ""
        kept["x-peduli-detail"] = .string(String((detail + note).prefix(200)))
        return kept
    }

    /// The same message in the form the relay falls back to when the broker cannot take it as stored.
    func reduced(note: String) -> OutboxMessage {
        var copy = self
        copy.properties.headers =
            properties.headers.map { Self.essentialHeaders(of: $0, note: note) }
            ?? ["x-peduli-detail": .string(note)]
        return copy
    }
}
