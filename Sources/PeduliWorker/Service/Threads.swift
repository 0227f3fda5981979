import Foundation
internal import PeduliBase

/// A FIFO handed between the threads the worker owns (consumer, database, relay). Blocking waits use a
/// condition variable, so these threads never touch Swift's cooperative pool.
///
/// `@unchecked Sendable`: every access to `items` and `head` happens with `condition` locked.
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Taken slots are set to nil at once, so a batch is released as soon as it is popped (the array is
    /// compacted now and then, not on every pop).
    private var items: [Element?] = []
    private var head = 0

    func push(_ element: Element) {
        condition.lock()
        items.append(element)
        condition.signal()
        condition.unlock()
    }

    /// Waits up to `timeout` for an element; nil on timeout.
    func pop(timeout: Duration) -> Element? {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while head == items.count {
            if !condition.wait(until: deadline) { break }
        }
        return takeLocked()
    }

    func tryPop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        return takeLocked()
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return items.count - head
    }

    private func takeLocked() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }
}

/// A flag set by one thread and polled by others (stop requests, "a loop is alive" stamps).
///
/// `@unchecked Sendable`: the value is only read and written with `lock` held.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
