import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM and SIGINT for the daemon, taken synchronously with `sigwait` instead of through a handler.
///
/// Why not ServiceLifecycle's signal handling: it sets the signals to SIG_IGN when the service group starts,
/// which also discards one already pending, and until then the default action (terminate) applies. Blocked
/// from the first line of `main` and waited for here, a signal is never lost and never kills the process.
enum StopSignals {
    static let signals: [Int32] = [SIGTERM, SIGINT]

    static func isRunCommand(_ arguments: [String]) -> Bool {
        arguments.dropFirst().first { !$0.hasPrefix("-") } == "run"
    }

    static var set: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    /// Blocks the stop signals in the calling thread and every thread it starts later.
    static func block() {
        var signals = set
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    static var areBlocked: Bool {
        var current = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &current)
        return signals.allSatisfy { sigismember(&current, $0) == 1 }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var handler: (@Sendable (Int32) -> Void)?
    nonisolated(unsafe) private static var pending: [Int32] = []

    /// Where stop signals go from now on; one that came before (during start-up) is delivered at once.
    /// Without `block()` (a test calling the command in-process) the signals keep their default action.
    static func onSignal(logger: Logger, _ body: @escaping @Sendable (Int32) -> Void) {
        if !areBlocked {
            logger.warning("stop signals are not blocked; SIGTERM will end the process without a drain")
        }
        let early = lock.withLock { () -> [Int32] in
            handler = body
            defer { pending = [] }
            return pending
        }
        for signal in early { body(signal) }
    }

    /// The calling thread takes the blocked stop signals with `sigwait`, for the life of the process.
    static func takeSignalsForever() -> Never {
        var signals = set
        while true {
            var received: Int32 = 0
            guard sigwait(&signals, &received) == 0 else { continue }
            let target = lock.withLock { () -> (@Sendable (Int32) -> Void)? in
                if handler == nil { pending.append(received) }
                return handler
            }
            target?(received)
        }
    }
}

/// How many stop signals came (the first starts the drain, the others are only logged).
///
/// `@unchecked Sendable`: `count` is only touched with `lock` held.
final class StopCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func next() -> Int {
        lock.withLock {
            count += 1; return count
        }
    }
}
