import Testing

@testable import PeduliWorker

struct ConsumerStateMachineTests {
    typealias Machine = ConsumerStateMachine<UInt64>
    let t0 = ContinuousClock.now

    func machine(batchSize: Int = 3, maxInFlight: Int = 2) -> Machine {
        Machine(batchSize: batchSize, maxWait: .milliseconds(5), maxInFlight: maxInFlight, deliveryTag: { $0 })
    }

    @Test func aFullBatchClosesAtOnce() {
        var m = machine()
        #expect(m.received(1, at: t0) == nil)
        #expect(m.received(2, at: t0) == nil)
        let batch = m.received(3, at: t0)
        #expect(batch?.items == [1, 2, 3])
        #expect(m.inFlightCount == 1)
    }

    /// Items are their own sizes here: (sizes received, batch size, byte bound, batches closed on arrival).
    @Test(
        arguments: [
            ([10, 10, 10], 3, 100, [[10, 10, 10]]),  // the count bound
            ([40, 40, 40], 5, 100, [[40, 40, 40]]),  // 120 bytes reach the bound: all three (each began below it)
            ([500], 5, 100, [[500]]),  // larger than the bound: alone, at once
            ([10, 500, 10], 5, 100, [[10, 500]]),  // the large one closes the batch it joins
            ([60, 30, 30, 5], 5, 100, [[60, 30, 30]]),  // reached at the third; the fourth starts the next batch
        ] as [([UInt64], Int, Int, [[UInt64]])])
    func batchesCloseAtTheByteBound(sizes: [UInt64], batchSize: Int, bytes: Int, expected: [[UInt64]]) {
        var m = Machine(
            batchSize: batchSize, maxWait: .seconds(1), maxInFlight: 10, batchBytes: bytes,
            deliveryTag: { $0 }, size: { Int($0) })
        let closed = sizes.compactMap { m.received($0, at: t0)?.items }
        #expect(closed == expected)
        // Whatever is left goes after the wait, and the bytes counted for it start again from zero.
        let rest = Array(sizes.dropFirst(expected.joined().count))
        #expect(m.tick(at: t0 + .seconds(1))?.items ?? [] == rest)
        #expect(m.received(UInt64(bytes - 1), at: t0 + .seconds(1)) == nil)
    }

    @Test func theByteBoundTakesAPrefixOfWhatWaited() {
        // Deliveries gathered while the database was full: the byte bound splits them in order.
        var m = Machine(
            batchSize: 10, maxWait: .milliseconds(5), maxInFlight: 1, batchBytes: 100,
            deliveryTag: { $0 }, size: { Int($0) })
        #expect(m.received(1, at: t0)?.items == nil)
        let first = m.tick(at: t0 + .milliseconds(5))
        #expect(first?.items == [1])
        for item: UInt64 in [50, 60, 70, 20] { #expect(m.received(item, at: t0 + .milliseconds(6)) == nil) }
        _ = m.completed(batchID: first!.id, dispositions: [.ack])
        #expect(m.tick(at: t0 + .milliseconds(6))?.items == [50, 60])
    }

    @Test func aPartialBatchClosesAfterTheWait() {
        var m = machine()
        _ = m.received(1, at: t0)
        #expect(m.tick(at: t0 + .milliseconds(4)) == nil)
        #expect(m.tick(at: t0 + .milliseconds(5))?.items == [1])
    }

    @Test func waitBudgetNeverOversleepsTheDeadline() {
        var m = machine()
        #expect(m.waitBudget(at: t0, idle: .milliseconds(100)) == .milliseconds(100))
        _ = m.received(1, at: t0)
        #expect(m.waitBudget(at: t0 + .milliseconds(2), idle: .milliseconds(100)) == .milliseconds(3))
        #expect(m.waitBudget(at: t0 + .milliseconds(9), idle: .milliseconds(100)) == .zero)
    }

    @Test func noMoreThanMaxInFlightBatches() {
        var m = machine(batchSize: 1, maxInFlight: 2)
        #expect(m.received(1, at: t0) != nil)
        #expect(m.received(2, at: t0) != nil)
        #expect(m.received(3, at: t0) == nil)
        #expect(m.tick(at: t0 + .seconds(1)) == nil)
        _ = m.completed(batchID: 1, dispositions: [.ack])
        #expect(m.tick(at: t0 + .seconds(1))?.items == [3])
    }

    @Test func nacksComeBeforeOneMultipleAck() {
        var m = machine()
        _ = m.received(7, at: t0)
        _ = m.received(8, at: t0)
        let batch = m.received(9, at: t0)!
        let actions = m.completed(batchID: batch.id, dispositions: [.ack, .requeue, .ack])
        #expect(actions == [.nack(deliveryTag: 8), .ack(deliveryTag: 9, multiple: true)])
    }

    @Test func aLastRequeuedDeliveryIsNotCoveredByTheMultipleAck() {
        var m = machine()
        _ = m.received(7, at: t0)
        _ = m.received(8, at: t0)
        let batch = m.received(9, at: t0)!
        let actions = m.completed(batchID: batch.id, dispositions: [.ack, .ack, .requeue])
        #expect(actions == [.nack(deliveryTag: 9), .ack(deliveryTag: 8, multiple: true)])
    }

    @Test func aBatchFinishedEarlyWaitsForTheEarlierOne() {
        var m = machine(batchSize: 1, maxInFlight: 3)
        let first = m.received(1, at: t0)!
        let second = m.received(2, at: t0)!
        let third = m.received(3, at: t0)!
        #expect(m.completed(batchID: third.id, dispositions: [.ack]).isEmpty)
        #expect(m.completed(batchID: second.id, dispositions: [.requeue]).isEmpty)
        #expect(m.inFlightCount == 3)
        #expect(
            m.completed(batchID: first.id, dispositions: [.ack]) == [
                .ack(deliveryTag: 1, multiple: true), .nack(deliveryTag: 2), .ack(deliveryTag: 3, multiple: true),
            ])
        #expect(m.inFlightCount == 0)
    }

    @Test func batchesOfALostChannelAreNeverAcknowledged() {
        var m = machine(batchSize: 1)
        let old = m.received(1, at: t0)!
        m.connectionLost()
        let fresh = m.received(1, at: t0)!
        #expect(fresh.generation == old.generation + 1)
        #expect(m.completed(batchID: old.id, dispositions: [.ack]).isEmpty)
        #expect(m.completed(batchID: fresh.id, dispositions: [.ack]) == [.ack(deliveryTag: 1, multiple: true)])
    }

    @Test func aLostChannelDropsWhatWasBeingGathered() {
        var m = machine()
        _ = m.received(1, at: t0)
        m.connectionLost()
        #expect(m.collectingCount == 0)
        #expect(m.tick(at: t0 + .seconds(1)) == nil)
    }

    @Test func stopDecidesWhatArrivedThenFinishes() {
        var m = machine()
        _ = m.received(1, at: t0)
        m.stop()
        #expect(m.phase == .draining)
        let last = m.tick(at: t0)!
        #expect(last.items == [1])
        #expect(m.phase == .draining)
        _ = m.completed(batchID: last.id, dispositions: [.ack])
        #expect(m.phase == .finished)
    }

    @Test func stopWithNothingInFlightFinishesAtOnce() {
        var m = machine()
        m.stop()
        #expect(m.phase == .finished)
    }
}

extension ConsumerStateMachine.Batch: Equatable where Item: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.generation == b.generation && a.items == b.items
    }
}
