/// What the worker takes whole from an inbound content header (docs/contract.md: header tables nested deeper
/// than 16 levels, more than 256 entries or over 16 KiB are not kept). A delivery whose headers break a
/// limit arrives with `headers` nil and `AMQPDelivery.headersDropped` saying why.
///
/// Why limits at all: librabbitmq has already decoded the table (on a thread with enough stack, see
/// `AMQPConfiguration.threadStackSize`), but copying it into Swift values, storing it and publishing it
/// again cost memory and stack per level and per entry; bounded headers also keep every copy the worker
/// publishes (parked, retried) well inside one frame.
public struct AMQPHeaderLimits: Sendable, Equatable {
    /// Nesting of tables and arrays; the headers table itself is level 1.
    public var maxDepth: Int
    /// Entries of every table and elements of every array, at all levels together.
    public var maxEntries: Int
    /// The headers table's encoded size in bytes.
    public var maxBytes: Int

    public init(maxDepth: Int = 16, maxEntries: Int = 256, maxBytes: Int = 16_384) {
        self.maxDepth = maxDepth
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    public static let contract = AMQPHeaderLimits()
}

/// Encoded sizes in AMQP 0-9-1, computed on Swift values so a publish can be refused before librabbitmq has
/// sent half of it (it sends the method frame before it finds that the content header does not fit).
public enum AMQPWireSize {
    /// The content header's properties, or nil when a short string property is over 255 bytes (unencodable).
    public static func properties(_ p: AMQPProperties) -> Int? {
        var size = 2  // property flags
        for text in [
            p.contentType, p.contentEncoding, p.correlationId, p.replyTo, p.expiration, p.messageId,
            p.type, p.userId, p.appId, p.clusterId,
        ] {
            guard let text else { continue }
            let count = text.utf8.count
            if count > 255 { return nil }
            size += 1 + count
        }
        if let headers = p.headers { size += table(headers) }
        if p.deliveryMode != nil { size += 1 }
        if p.priority != nil { size += 1 }
        if p.timestamp != nil { size += 8 }
        return size
    }

    /// A whole content-header frame: frame envelope (8), class, weight and body size (12), properties.
    public static func contentHeaderFrame(_ p: AMQPProperties) -> Int? {
        properties(p).map { 8 + 12 + $0 }
    }

    /// A field table with its 4-byte length.
    public static func table(_ t: AMQPTable) -> Int {
        4 + t.entries.reduce(0) { $0 + 1 + $1.key.utf8.count + value($1.value) }
    }

    /// A field value with its type octet.
    public static func value(_ v: AMQPFieldValue) -> Int {
        switch v {
        case .bool, .int8, .uint8: return 2
        case .int16, .uint16: return 3
        case .int32, .uint32, .float: return 5
        case .int64, .double, .timestamp: return 9
        case .decimal: return 6
        case .string(let s): return 5 + s.utf8.count
        case .bytes(let b), .stringBytes(let b): return 5 + b.count
        case .array(let items): return 5 + items.reduce(0) { $0 + value($1) }
        case .table(let t): return 1 + table(t)
        case .void: return 1
        }
    }

    /// Memory a delivery holds beyond its body, for byte bounds on batches (properties and headers count).
    public static func envelopeEstimate(_ p: AMQPProperties) -> Int {
        properties(p) ?? 4096
    }
}
