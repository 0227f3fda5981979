import AMQPClient
import Foundation

/// One message read from `peduli.dead-letters`, with what the worker or RabbitMQ wrote about why it is
/// there (docs/contract.md, "Parked messages"; docs/operations.md, "Dead letters"). Pure: built from a
/// delivery, so it is tested without a broker.
public struct ParkedMessage: Sendable, Equatable {
    /// The reason code of a message RabbitMQ parked after `x-delivery-limit` deliveries.
    public static let deliveryLimitReason = "delivery_limit"

    /// 1-based place in the queue when it was read (`#3` on the command line): stable while nothing else
    /// takes messages from the queue.
    public var position: Int
    public var delivery: AMQPDelivery
    /// `x-peduli-reason`, or `delivery_limit` for a message RabbitMQ parked, else `unknown`.
    public var reason: String
    public var detail: String?
    /// The work queue it came from: `x-peduli-queue`, or the queue of the `x-death` entry.
    public var queue: String?
    /// The original publisher, trusted: see ``publisher(of:workerUser:)``.
    public var publisher: String?
    /// An `x-peduli-user-id` that cannot be trusted (the copy does not carry the worker's validated user).
    public var unverifiedPublisher: String?
    /// When it was parked: `x-peduli-parked-at`, else the time of the `x-death` entry, else the message's
    /// own `timestamp` (then ``timeSource`` says so); nil when none is known.
    public var parkedAt: Date?
    public var timeSource: String
    /// How many times the work queue delivered it (`x-death` count), for a message RabbitMQ parked.
    public var workQueueDeliveries: Int?
    /// `x-delivery-count` as the dead-letters queue reports it: how often it was handed out from there
    /// before (each list or show is one, on RabbitMQ 3.x). Never copied into a replay.
    public var deadLetterDeliveries: Int

    public var messageID: String? { delivery.properties.messageId }
    public var isParkedByBroker: Bool { reason == Self.deliveryLimitReason }
    /// A `conflicting_duplicate` is final by contract; a delivery-limit message failed every time: both need
    /// `--force` to be replayed.
    public var needsForce: Bool { reason == "conflicting_duplicate" || isParkedByBroker }

    public init(position: Int, delivery: AMQPDelivery, workerUser: String?) {
        self.position = position
        self.delivery = delivery
        let properties = delivery.properties
        let headers = properties.headers ?? AMQPTable()
        let deaths: [AMQPTable] =
            headers["x-death"].flatMap {
                if case .array(let items) = $0 {
                    return items.compactMap { item -> AMQPTable? in
                        if case .table(let t) = item { return t }
                        return nil
                    }
                }
                return nil
            } ?? []
        let limitDeath = deaths.first { $0["reason"]?.stringValue == Self.deliveryLimitReason }
        let byBroker =
            limitDeath != nil || headers["x-first-death-reason"]?.stringValue == Self.deliveryLimitReason
            || headers["x-last-death-reason"]?.stringValue == Self.deliveryLimitReason
        if let code = headers["x-peduli-reason"]?.stringValue {
            reason = code
        } else {
            reason = byBroker ? Self.deliveryLimitReason : "unknown"
        }
        detail = headers["x-peduli-detail"]?.stringValue
        queue =
            headers["x-peduli-queue"]?.stringValue ?? limitDeath?["queue"]?.stringValue
            ?? headers["x-first-death-queue"]?.stringValue
        publisher = Self.publisher(of: properties, workerUser: workerUser)
        let claimed = headers["x-peduli-user-id"]?.stringValue
        unverifiedPublisher = publisher == nil ? claimed : nil
        if case .timestamp(let t)? = headers["x-peduli-parked-at"] {
            parkedAt = Date(timeIntervalSince1970: TimeInterval(t))
            timeSource = "parked"
        } else if case .timestamp(let t)? = (limitDeath ?? deaths.first)?["time"] {
            parkedAt = Date(timeIntervalSince1970: TimeInterval(t))
            timeSource = "x-death"
        } else if let t = properties.timestamp {
            parkedAt = Date(timeIntervalSince1970: TimeInterval(t))
            timeSource = "published"
        } else {
            parkedAt = nil
            timeSource = "unknown"
        }
        workQueueDeliveries = (limitDeath?["count"]?.int64Value).map { Int(clamping: $0) }
        deadLetterDeliveries = Int(clamping: headers["x-delivery-count"]?.int64Value ?? 0)
    }

    /// The same rule as the worker's (`InboundCheck.publisher`): a message whose `user_id` RabbitMQ validated
    /// as the worker's own (a parked copy of this build, a retry copy) names its original publisher in
    /// `x-peduli-user-id`; any other message's publisher is its own `user_id` (RabbitMQ keeps it when it
    /// dead-letters). A header on anything else is not believed.
    public static func publisher(of properties: AMQPProperties, workerUser: String?) -> String? {
        if let workerUser, properties.userId == workerUser {
            return properties.headers?["x-peduli-user-id"]?.stringValue
        }
        return properties.userId
    }

    /// What identifies the parked command across reads, for the replay record: FNV-1a (64 bits, twice with
    /// two offsets) over routing key, `message_id` and body, as 32 hex digits.
    public var fingerprint: String {
        var input: [UInt8] = Array(delivery.routingKey.utf8) + [0] + Array((messageID ?? "").utf8) + [0]
        input += delivery.body
        func fnv(_ basis: UInt64) -> UInt64 {
            var hash = basis
            for byte in input {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return hash
        }
        let a = fnv(0xcbf2_9ce4_8422_2325)
        let b = fnv(0x8422_2325_cbf2_9ce4)
        return String(format: "%016llx%016llx", a, b)
    }

    /// The routing key to replay under: the parked one when it is a command key, else the one of the queue it
    /// came from (a retry copy is dead-lettered back under the payments queue's name); nil when neither is known.
    public func replayRoutingKey(_ topology: PipelineConfiguration.Topology) -> String? {
        let keys = [topology.registrationsRoutingKey, topology.paymentsRoutingKey]
        if keys.contains(delivery.routingKey) { return delivery.routingKey }
        switch queue ?? delivery.routingKey {
        case topology.registrationsQueue: return topology.registrationsRoutingKey
        case topology.paymentsQueue: return topology.paymentsRoutingKey
        default: return nil
        }
    }

    /// Headers a replay never carries: the worker's own (`x-peduli-*`, re-added below as needed) and what
    /// RabbitMQ adds when it dead-letters or redelivers.
    static func isStripped(_ key: String) -> Bool {
        key.hasPrefix("x-peduli-") || key == "x-death" || key.hasPrefix("x-first-death-")
            || key.hasPrefix("x-last-death-") || key == "x-delivery-count"
    }

    /// The properties of the replay: the original's, with a new `message_id`, the stripped headers removed and
    /// `x-peduli-replay-of` added. When the original publisher is known, the replay goes out under the
    /// worker's own user (`publisherUser`, which RabbitMQ validates) naming it in `x-peduli-user-id`, exactly
    /// like a retry copy, so the worker checks that publisher against `security.allowed_publishers` again;
    /// when it is not known, the replay has no `user_id`, as the original had none.
    public func replayProperties(newMessageID: String, publisherUser: String) -> AMQPProperties {
        var properties = delivery.properties
        var headers = AMQPTable((properties.headers ?? AMQPTable()).entries.filter { !Self.isStripped($0.key) })
        if let publisher {
            headers["x-peduli-user-id"] = .string(publisher)
            properties.userId = publisherUser
        } else {
            properties.userId = nil
        }
        headers["x-peduli-replay-of"] = messageID.map(AMQPFieldValue.string)
        properties.headers = headers
        properties.messageId = newMessageID
        if properties.deliveryMode == nil { properties.deliveryMode = 2 }
        return properties
    }
}
