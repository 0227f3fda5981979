import Foundation

/// Runs blocking work (libpq, librabbitmq, a pipeline loop) on a Foundation thread of its own, never on
/// Swift's cooperative pool (two threads on this machine), and lets async code await its end or its result.
/// The one place the package starts a thread: callers choose the stack size.
///
/// `@unchecked Sendable`: `finished` and `waiters` are guarded by `lock`.
public final class OwnedThread: @unchecked Sendable {
    /// Enough for the database and scheduler loops.
    public static let defaultStackSize = 1 << 20

    private let lock = NSLock()
    private var finished = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Starts `body` at once. `stackSize`: 1 MiB suits the database and scheduler loops; a thread that reads
    /// AMQP frames needs `AMQPConfiguration.threadStackSize` (librabbitmq decodes nested headers recursively).
    public init(
        name: String? = nil, stackSize: Int = OwnedThread.defaultStackSize, _ body: @escaping @Sendable () -> Void
    ) {
        let thread = Thread { [self] in
            body()
            let toResume = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
                finished = true
                defer { waiters.removeAll() }
                return waiters
            }
            for waiter in toResume { waiter.resume() }
        }
        if let name { thread.name = name }
        thread.stackSize = stackSize
        thread.start()
    }

    public var isFinished: Bool { lock.withLock { finished } }

    public func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lock.withLock { () -> Bool in
                if finished { return true }
                waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Runs `body` on a thread of its own and hands back its result (or rethrows its error).
    public static func run<T: Sendable>(
        name: String? = nil, stackSize: Int, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            _ = OwnedThread(name: name, stackSize: stackSize) { continuation.resume(with: Result { try body() }) }
        }
    }
}
