import Testing

@testable import AMQPClient

@Suite struct ConfirmTrackerTests {
    func tracker(publishing count: Int) -> ConfirmTracker {
        var t = ConfirmTracker()
        for expected in 1...UInt64(count) { #expect(t.recordPublish() == expected) }
        return t
    }

    @Test func sequenceNumbersStartAtOne() {
        var t = ConfirmTracker()
        #expect(t.isSettled(upTo: 0))
        #expect(t.recordPublish() == 1)
        #expect(t.recordPublish() == 2)
        #expect(t.outstandingCount == 2)
        #expect(t.oldestOutstanding == 1)
    }

    struct Step: Sendable {
        var tag: UInt64
        var multiple: Bool
        var ack: Bool
        var settles: [UInt64]
    }

    @Test(arguments: [
        // single acks, out of order
        [
            Step(tag: 2, multiple: false, ack: true, settles: [2]),
            Step(tag: 1, multiple: false, ack: true, settles: [1]),
        ],
        // multiple ack covers a prefix, then the rest
        [
            Step(tag: 3, multiple: true, ack: true, settles: [1, 2, 3]),
            Step(tag: 5, multiple: true, ack: true, settles: [4, 5]),
        ],
        // a nack in the middle, then a multiple ack that skips it
        [
            Step(tag: 2, multiple: false, ack: false, settles: [2]),
            Step(tag: 5, multiple: true, ack: true, settles: [1, 3, 4, 5]),
        ],
        // duplicates and unknown tags change nothing
        [
            Step(tag: 1, multiple: false, ack: true, settles: [1]),
            Step(tag: 1, multiple: false, ack: true, settles: []),
            Step(tag: 99, multiple: false, ack: true, settles: []),
            Step(tag: 0, multiple: true, ack: true, settles: []),
        ],
        // multiple nack
        [Step(tag: 4, multiple: true, ack: false, settles: [1, 2, 3, 4])],
    ])
    func settlements(_ steps: [Step]) {
        var t = tracker(publishing: 5)
        var settled: Set<UInt64> = []
        for step in steps {
            let s = t.handle(AMQPConfirm(deliveryTag: step.tag, multiple: step.multiple, ack: step.ack))
            #expect(s.sequences == step.settles)
            #expect(s.ack == step.ack)
            settled.formUnion(s.sequences)
        }
        #expect(t.outstandingCount == 5 - settled.count)
        for seq in UInt64(1)...5 { #expect(t.isOutstanding(seq) == !settled.contains(seq)) }
        let firstOpen = (UInt64(1)...5).first { !settled.contains($0) }
        #expect(t.oldestOutstanding == firstOpen)
        if let firstOpen {
            #expect(t.isSettled(upTo: firstOpen - 1))
            #expect(!t.isSettled(upTo: firstOpen))
        } else {
            #expect(t.isSettled(upTo: 5))
        }
    }

    @Test func largeInterleavedStreamSettlesEverythingOnce() {
        var t = ConfirmTracker()
        var settledCount = 0
        var seen: Set<UInt64> = []
        for i in 1...10_000 {
            _ = t.recordPublish()
            if i % 7 == 0 {
                let s = t.handle(AMQPConfirm(deliveryTag: UInt64(i - 2), multiple: true, ack: true))
                settledCount += s.sequences.count
                for seq in s.sequences { #expect(seen.insert(seq).inserted) }
            }
        }
        let last = t.handle(AMQPConfirm(deliveryTag: 10_000, multiple: true, ack: true))
        settledCount += last.sequences.count
        #expect(settledCount == 10_000)
        #expect(t.outstandingCount == 0)
        #expect(t.isSettled(upTo: 10_000))
        #expect(t.nextSequence == 10_001)
    }
}
