import Foundation

/// Runs blocking client work (librabbitmq, libpq) on a Foundation thread of its own, never on Swift's
/// cooperative pool (two threads on this machine), the way the worker does, and hands back its result.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
