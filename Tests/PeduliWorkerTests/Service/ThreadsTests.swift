import Foundation
import Testing

@testable import PeduliWorker

struct ThreadsTests {
    final class Payload: Sendable {}

    /// A popped batch must not stay referenced by the queue (it once did until 1,024 pops: 2.3 KiB a command).
    @Test func poppedElementsAreReleasedAtOnce() {
        let queue = BlockingQueue<Payload>()
        weak var first: Payload?
        do {
            let payload = Payload()
            first = payload
            queue.push(payload)
            queue.push(Payload())
        }
        #expect(first != nil)
        _ = queue.tryPop()
        #expect(first == nil, "the queue still holds a popped element")
        #expect(queue.count == 1)
    }

    @Test func fifoAcrossCompactions() {
        let queue = BlockingQueue<Int>()
        var out: [Int] = []
        for i in 0..<500 {
            queue.push(i)
            if i % 3 == 0, let value = queue.tryPop() { out.append(value) }
        }
        while let value = queue.tryPop() { out.append(value) }
        #expect(out == Array(0..<500))
    }

    @Test func popWaitsForAPushFromAnotherThread() {
        let queue = BlockingQueue<Int>()
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.05)
            queue.push(7)
        }
        #expect(queue.pop(timeout: .seconds(5)) == 7)
        #expect(queue.pop(timeout: .milliseconds(10)) == nil)
    }
}
