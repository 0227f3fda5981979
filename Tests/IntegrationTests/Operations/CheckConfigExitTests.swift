import Foundation
import Testing

/// check-config through the built executable: it refuses what `run` would refuse (78, naming the key) before
/// connecting anywhere, and warns about mistyped PEDULI_* variables.
@Suite struct CheckConfigExitTests {
    static let database = "postgresql://peduli:pw@127.0.0.1:1/peduli"

    @Test(arguments: [
        ("amqp://w:p@127.0.0.1:1/?bogus=1", database, "amqp.url: query parameter bogus is not supported"),
        ("amqp://w:p@127.0.0.1:1/?cacertfile=/x", database, "amqp.url: query parameter cacertfile"),
        ("amqp://w:p@127.0.0.1:1/", database + "?bogus=1", "database.url: invalid PostgreSQL connection string"),
    ])
    func refusedURLsExit78(_ amqp: String, _ database: String, _ message: String) async throws {
        for command in [["check-config"], ["run"]] {
            let result = try await WorkerProcess.run(
                command,
                environment: ["PEDULI_AMQP_URL": amqp, "PEDULI_DATABASE_URL": database, "PEDULI_METRICS_LISTEN": ""])
            #expect(result.status == 78, "\(command): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(command): \(result.stderr)")
        }
    }

    @Test func acceptedParametersAndAWarning() async throws {
        let result = try await WorkerProcess.run(
            ["check-config"],
            environment: [
                "PEDULI_AMQP_URL": "amqp://w:p@127.0.0.1:1/?heartbeat=10&frame_max=65536",
                "PEDULI_DATABASE_URL": Self.database + "?sslmode=disable", "PEDULI_WORKER_PREFECTH": "5",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("warning: environment variable PEDULI_WORKER_PREFECTH names no configuration key"))
        #expect(result.stderr.contains("PEDULI_WORKER_PREFETCH (key worker.prefetch)"))
        #expect(result.stdout.contains("?heartbeat=10&frame_max=65536"))
    }
}
