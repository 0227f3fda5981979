import Dispatch
import Foundation
import PostgresClient
import Testing

/// Shared helpers for the PostgreSQL integration tests. They need the private server from
/// `scripts/services start` (`. .services/env`); without it every test fails, never skips.
enum PostgresTestSupport {
    struct MissingEnvironment: Error, CustomStringConvertible {
        var description: String {
            "PEDULI_TEST_DATABASE_URL is not set: run `scripts/services start` and `. .services/env` first"
        }
    }

    static func configuration() throws -> PostgresConfiguration {
        guard let url = ProcessInfo.processInfo.environment["PEDULI_TEST_DATABASE_URL"], !url.isEmpty else {
            throw MissingEnvironment()
        }
        return try PostgresConfiguration(url, applicationName: "peduli-tests")
    }

    /// A new connection; call it on the thread that will use it.
    static func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration())
    }

    /// A lower-case identifier unique to this run, for tables, schemas and channels.
    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    }

    /// Creates a table, runs `body`, then drops the table (even when `body` throws).
    static func withTable<T>(
        _ prefix: String, columns: String, on connection: PostgresConnection, _ body: (String) throws -> T
    ) throws -> T {
        let table = uniqueName(prefix)
        try connection.execute(simple: "CREATE TABLE \(table) (\(columns))")
        defer { _ = try? connection.execute(simple: "DROP TABLE IF EXISTS \(table)") }
        return try body(table)
    }
}

/// Two-party rendezvous for tests that need two threads at the same point (a deadlock, two
/// migrators at once). Each side signals its own semaphore and waits for the other's.
struct PostgresTestRendezvous: Sendable {
    private let first = DispatchSemaphore(value: 0)
    private let second = DispatchSemaphore(value: 0)

    /// Returns false when the other side did not arrive within 15 seconds.
    func arrive(asFirst: Bool) -> Bool {
        (asFirst ? first : second).signal()
        return (asFirst ? second : first).wait(timeout: .now() + 15) == .success
    }
}
