import PeduliBase

/// Runs blocking client work (librabbitmq, libpq) on a Foundation thread of its own (8 MiB of stack), never on
/// Swift's cooperative pool (two threads on this machine), the way the worker does, and hands back its result.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await OwnedThread.run(stackSize: 8 << 20, body)
}
