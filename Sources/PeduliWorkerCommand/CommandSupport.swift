import AMQPClient
import ArgumentParser
import Foundation
import Logging
internal import PeduliBase
import PeduliWorker
import PostgresClient

/// Runs a step that turns configuration into client settings; any failure there is a configuration error (78).
func configurationStep<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        printError("peduli-worker: configuration error: \(WorkerConfiguration.keyed(error))")
        throw ExitCode(ExitCodes.configuration)
    }
}

/// Maps a failure to docs/operations.md's exit codes, logging it once (errors never carry secrets or personal data).
func failureExit(_ error: Error, logger: Logger) -> ExitCode {
    switch error {
    case let error as ExitCode:
        return error
    case let error as WorkerError:
        logger.critical("stopping", metadata: ["error": "\(error)"])
        return ExitCode(error.exitCode)
    case let error as PostgresError where error.category == .connectionLost:
        logger.critical("database unavailable", metadata: ["error": "\(error)"])
        return ExitCode(ExitCodes.dependencyUnavailable)
    case let error as AMQPError where error.isConnectionLost || error.code == .connectionFailed:
        logger.critical("broker unavailable", metadata: ["error": "\(error)"])
        return ExitCode(ExitCodes.dependencyUnavailable)
    case let error as HTTPEndpointError:
        logger.critical("metrics endpoint", metadata: ["error": "\(error)"])
        return ExitCode(ExitCodes.configuration)
    default:
        logger.critical("internal error", metadata: ["error": "\(error)"])
        return ExitCode(ExitCodes.internalError)
    }
}

/// Runs blocking client calls (libpq, librabbitmq) on a thread of their own (4 MiB of stack), never on the
/// cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await OwnedThread.run(stackSize: 4 << 20, body)
}
