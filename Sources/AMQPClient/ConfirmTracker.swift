/// Publisher-confirm bookkeeping without I/O: hands out sequence numbers (from 1, as the broker
/// counts them on a channel in confirm mode) and settles them from basic.ack / basic.nack,
/// including `multiple` confirms. One tracker per channel; start a new one after a reconnect.
public struct ConfirmTracker: Sendable, Equatable {
    /// Sequence number the next publish will get.
    public private(set) var nextSequence: UInt64 = 1
    /// Published but not yet confirmed, ascending (sequence numbers are handed out in order).
    private var outstanding: [UInt64] = []
    private var head = 0

    public init() {}

    /// Outcome of one confirm frame.
    public struct Settlement: Sendable, Equatable {
        /// Sequence numbers the frame settled, ascending.
        public var sequences: [UInt64]
        public var ack: Bool
        public init(sequences: [UInt64], ack: Bool) {
            self.sequences = sequences
            self.ack = ack
        }
    }

    /// Records a publish and returns its sequence number.
    public mutating func recordPublish() -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        outstanding.append(sequence)
        return sequence
    }

    public var outstandingCount: Int { outstanding.count - head }
    public var oldestOutstanding: UInt64? { head < outstanding.count ? outstanding[head] : nil }
    public func isOutstanding(_ sequence: UInt64) -> Bool { find(sequence) != nil }

    /// True when nothing at or below `sequence` waits for a confirm.
    public func isSettled(upTo sequence: UInt64) -> Bool {
        guard let oldest = oldestOutstanding else { return true }
        return oldest > sequence
    }

    /// Applies a confirm. Tags that are unknown or already settled are ignored (the broker never
    /// sends them twice, but a stale frame must not corrupt the state).
    public mutating func handle(_ confirm: AMQPConfirm) -> Settlement {
        var settled: [UInt64] = []
        if confirm.multiple {
            while head < outstanding.count, outstanding[head] <= confirm.deliveryTag {
                settled.append(outstanding[head])
                head += 1
            }
        } else if let index = find(confirm.deliveryTag) {
            settled.append(outstanding[index])
            if index == head { head += 1 } else { outstanding.remove(at: index) }
        }
        compact()
        return Settlement(sequences: settled, ack: confirm.ack)
    }

    private func find(_ sequence: UInt64) -> Int? {
        var low = head
        var high = outstanding.count
        while low < high {
            let mid = (low + high) / 2
            if outstanding[mid] < sequence { low = mid + 1 } else { high = mid }
        }
        return low < outstanding.count && outstanding[low] == sequence ? low : nil
    }

    private mutating func compact() {
        if head > 1024 && head * 2 > outstanding.count {
            outstanding.removeFirst(head)
            head = 0
        } else if head == outstanding.count {
            outstanding.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.nextSequence == b.nextSequence && a.outstanding[a.head...].elementsEqual(b.outstanding[b.head...])
    }
}
