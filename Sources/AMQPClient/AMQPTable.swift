/// One AMQP 0-9-1 field value, with the type codes RabbitMQ understands. There is no `uint64`:
/// RabbitMQ rejects type `L`, so offering it would let a caller kill its own connection.
public indirect enum AMQPFieldValue: Sendable, Equatable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case uint8(UInt8)
    case uint16(UInt16)
    case uint32(UInt32)
    case float(Float)
    case double(Double)
    /// value × 10^-scale
    case decimal(scale: UInt8, value: UInt32)
    /// Long string (type `S`) holding valid UTF-8.
    case string(String)
    /// Byte array (type `x`).
    case bytes([UInt8])
    /// Long string (type `S`) that is not valid UTF-8: kept apart from `.bytes` so that a message is
    /// re-published with the type it arrived with.
    case stringBytes([UInt8])
    case array([AMQPFieldValue])
    case table(AMQPTable)
    /// Seconds since the Unix epoch.
    case timestamp(UInt64)
    case void

    /// The string content, for `.string` (and `.bytes` holding valid UTF-8).
    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b), .stringBytes(let b): return String(validating: b, as: UTF8.self)
        default: return nil
        }
    }

    /// Any integer kind widened to Int64 (RabbitMQ picks the width, e.g. `x-death` counts are `l`).
    public var int64Value: Int64? {
        switch self {
        case .int8(let v): return Int64(v)
        case .int16(let v): return Int64(v)
        case .int32(let v): return Int64(v)
        case .int64(let v): return v
        case .uint8(let v): return Int64(v)
        case .uint16(let v): return Int64(v)
        case .uint32(let v): return Int64(v)
        case .timestamp(let v): return Int64(exactly: v)
        default: return nil
        }
    }
}

/// An AMQP field table. Order is kept as sent (RabbitMQ keeps it too), keys are unique by
/// convention: `subscript` returns the first match and setting replaces it in place.
public struct AMQPTable: Sendable, Equatable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    public struct Entry: Sendable, Equatable, Hashable {
        public var key: String
        public var value: AMQPFieldValue
        public init(key: String, value: AMQPFieldValue) {
            self.key = key
            self.value = value
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }
    public init(dictionaryLiteral elements: (String, AMQPFieldValue)...) {
        entries = elements.map { Entry(key: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var keys: [String] { entries.map(\.key) }
    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }

    public subscript(key: String) -> AMQPFieldValue? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }
}

/// The basic-class content properties. `nil` means "not sent", which the broker distinguishes
/// from an empty string.
public struct AMQPProperties: Sendable, Equatable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable?
    /// 1 transient, 2 persistent.
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationId: String?
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a decimal string (AMQP says so).
    public var expiration: String?
    public var messageId: String?
    /// Seconds since the Unix epoch.
    public var timestamp: UInt64?
    public var type: String?
    /// RabbitMQ checks it equals the publishing connection's user.
    public var userId: String?
    public var appId: String?
    public var clusterId: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable? = nil,
        deliveryMode: UInt8? = nil, priority: UInt8? = nil, correlationId: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageId: String? = nil,
        timestamp: UInt64? = nil, type: String? = nil, userId: String? = nil, appId: String? = nil,
        clusterId: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageId = messageId
        self.timestamp = timestamp
        self.type = type
        self.userId = userId
        self.appId = appId
        self.clusterId = clusterId
    }

    public static let persistentDeliveryMode: UInt8 = 2
    public static let transientDeliveryMode: UInt8 = 1
}
