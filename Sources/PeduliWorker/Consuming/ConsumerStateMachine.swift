/// What the consumer thread does with deliveries: gather them into batches, hand batches to the database
/// thread, and turn committed batches into acknowledgements on the channel that delivered them.
///
/// Plain state, no I/O, so every ordering rule is tested without a broker:
/// - a batch closes when it holds `batchSize` deliveries, or bodies of `batchBytes` bytes (a delivery larger
///   than that goes alone), or `maxWait` after its first delivery;
/// - at most `maxInFlight` batches wait for the database; deliveries keep arriving (bounded by prefetch);
/// - a committed batch is acknowledged with one multiple-ack, after the individual nacks of the deliveries
///   that must come back; several database threads may finish batches out of order, so a finished batch
///   waits until every earlier one has finished: a multiple-ack never covers a delivery not decided yet;
/// - after a reconnect, deliveries of the old channel are never acknowledged on the new one (generations);
/// - a stop cancels the consumers, decides and acknowledges what arrived, then finishes.
public struct ConsumerStateMachine<Item: Sendable>: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// The per-delivery verdict the database thread returns.
    public enum Disposition: Sendable, Equatable {
        /// Committed (or a no-op duplicate): acknowledge.
        case ack
        /// Not decided (for example the one message that made its savepoint fail): back to the queue, which
        /// counts the delivery toward `x-delivery-limit`.
        case requeue
    }

    public struct Batch: Sendable {
        public var id: UInt64
        public var generation: UInt64
        public var items: [Item]
    }

    public enum Action: Sendable, Equatable {
        case nack(deliveryTag: UInt64)
        case ack(deliveryTag: UInt64, multiple: Bool)
    }

    public enum Phase: Sendable, Equatable { case running, draining, finished }

    public let batchSize: Int
    public let maxWait: Duration
    public let maxInFlight: Int
    public let batchBytes: Int
    private let tag: @Sendable (Item) -> UInt64
    private let size: @Sendable (Item) -> Int

    public private(set) var phase: Phase = .running
    public private(set) var generation: UInt64 = 1
    private var collecting: [Item] = []
    private var collectingSince: Instant?
    private var collectingBytes = 0
    /// Batches handed out and not finished, oldest first, with the delivery tags they carry: the machine keeps
    /// what it needs to acknowledge them, so the database thread returns verdicts only.
    private var inFlight: [(id: UInt64, generation: UInt64, tags: [UInt64])] = []
    /// Batches finished before an earlier one, waiting for their turn to be acknowledged.
    private var finishedEarly: [UInt64: [Disposition]] = [:]
    private var nextBatchID: UInt64 = 1

    /// - Parameters:
    ///   - batchBytes: with `size`, what one batch may carry, so a few oversized bodies (parked as
    ///     `too_large`, copied into the outbox) never share a transaction's memory with many others.
    public init(
        batchSize: Int, maxWait: Duration, maxInFlight: Int, batchBytes: Int = .max,
        deliveryTag: @escaping @Sendable (Item) -> UInt64, size: @escaping @Sendable (Item) -> Int = { _ in 0 }
    ) {
        precondition(batchSize > 0 && maxInFlight > 0 && batchBytes > 0)
        self.batchSize = batchSize
        self.maxWait = maxWait
        self.maxInFlight = maxInFlight
        self.batchBytes = batchBytes
        self.tag = deliveryTag
        self.size = size
    }

    public var inFlightCount: Int { inFlight.count }
    public var collectingCount: Int { collecting.count }

    /// A delivery arrived on the current channel.
    public mutating func received(_ item: Item, at now: Instant) -> Batch? {
        if collecting.isEmpty { collectingSince = now }
        collecting.append(item)
        collectingBytes += size(item)
        return closeBatchIfDue(at: now)
    }

    /// Time passed; returns a batch when the open one is due and the database has room.
    public mutating func tick(at now: Instant) -> Batch? {
        closeBatchIfDue(at: now)
    }

    /// How long the consumer may block waiting for the next frame without missing a batch deadline.
    public func waitBudget(at now: Instant, idle: Duration) -> Duration {
        guard let since = collectingSince, !collecting.isEmpty, inFlight.count < maxInFlight else { return idle }
        let left = since + maxWait - now
        return max(.zero, min(idle, left))
    }

    /// The database thread finished a batch: one verdict per delivery, in the batch's order. Returns the
    /// acknowledgements to send now (none when the batch belongs to a channel that is gone: the broker
    /// redelivers those, and the inbox makes them no-ops).
    public mutating func completed(batchID: UInt64, dispositions: [Disposition]) -> [Action] {
        guard inFlight.contains(where: { $0.id == batchID }) else { return [] }
        finishedEarly[batchID] = dispositions
        var actions: [Action] = []
        while let head = inFlight.first, let result = finishedEarly.removeValue(forKey: head.id) {
            inFlight.removeFirst()
            if head.generation == generation {
                actions += acknowledgements(dispositions: result, tags: head.tags)
            }
        }
        finishIfDrained()
        return actions
    }

    private func acknowledgements(dispositions: [Disposition], tags: [UInt64]) -> [Action] {
        var actions: [Action] = []
        var highestAck: UInt64?
        for (tag, disposition) in zip(tags, dispositions) {
            switch disposition {
            case .requeue: actions.append(.nack(deliveryTag: tag))
            case .ack: highestAck = max(highestAck ?? 0, tag)
            }
        }
        if let highestAck { actions.append(.ack(deliveryTag: highestAck, multiple: true)) }
        return actions
    }

    /// The channel died: what was being gathered will be redelivered; batches already in the database
    /// complete but are not acknowledged.
    public mutating func connectionLost() {
        generation += 1
        collecting.removeAll()
        collectingBytes = 0
        collectingSince = nil
    }

    /// Stop taking messages: the caller cancels its consumers; what arrived is still decided.
    public mutating func stop() {
        guard phase == .running else { return }
        phase = .draining
        finishIfDrained()
    }

    /// While draining, the open batch closes at once instead of waiting for its deadline.
    private mutating func closeBatchIfDue(at now: Instant) -> Batch? {
        guard !collecting.isEmpty, inFlight.count < maxInFlight else { return nil }
        let due =
            collecting.count >= batchSize || collectingBytes >= batchBytes || phase == .draining
            || (collectingSince.map { now - $0 >= maxWait } ?? false)
        guard due else { return nil }
        // Deliveries in order while the batch is below both bounds; the first one always goes.
        var take = 0
        var bytes = 0
        while take < min(batchSize, collecting.count) && bytes < batchBytes {
            bytes += size(collecting[take])
            take += 1
        }
        let items = Array(collecting.prefix(take))
        collecting.removeFirst(take)
        collectingBytes -= bytes
        collectingSince = collecting.isEmpty ? nil : now
        let batch = Batch(id: nextBatchID, generation: generation, items: items)
        nextBatchID += 1
        inFlight.append((batch.id, batch.generation, items.map(tag)))
        return batch
    }

    private mutating func finishIfDrained() {
        if phase == .draining && inFlight.isEmpty && collecting.isEmpty { phase = .finished }
    }
}
