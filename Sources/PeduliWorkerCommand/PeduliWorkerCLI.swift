import ArgumentParser
import Foundation
import Logging
import PeduliWorker

/// The `peduli-worker` executable (docs/operations.md, Command line). The entry point is `main.swift`, which
/// blocks the stop signals before anything else runs.
struct PeduliWorkerCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peduli-worker",
        abstract: "Back end of Kota Semarang's PNS Peduli Pekerja Rentan programme.",
        discussion: """
            Consumes registration and payment commands from RabbitMQ, applies the programme's rules, \
            stores the outcome in PostgreSQL and publishes events and reminders.

            Configuration: --config PATH, else $PEDULI_CONFIG, else /etc/peduli-worker/config.yaml \
            (or .yml) if present, else the built-in defaults. Environment variables PEDULI_<KEY> \
            override the file; the URLs come from PEDULI_AMQP_URL and PEDULI_DATABASE_URL or from \
            credential files.

            Exit codes: 0 success, 64 usage error, 69 a dependency unavailable at start-up, \
            70 internal error, 78 configuration error.
            """,
        version: BuildInfo.description,
        subcommands: [
            RunCommand.self, MigrateCommand.self, CheckConfigCommand.self, RosterCommand.self,
            CoveredCommand.self, RemindersCommand.self, ReportCommand.self, KeysCommand.self,
            SubjectCommand.self, DeadLettersCommand.self,
        ]
    )
}

/// The process exit codes of docs/operations.md, from sysexits(3).
enum ExitCodes {
    static let success: Int32 = 0
    /// Wrong arguments or an unacceptable input file (ArgumentParser's validation errors use it too).
    static let usage: Int32 = 64
    /// The broker or database did not answer within `worker.startup_wait_seconds`.
    static let dependencyUnavailable: Int32 = 69
    /// A bug: an error nothing above could classify.
    static let internalError: Int32 = 70
    static let configuration: Int32 = 78
}

/// Options every command takes.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "YAML configuration file (default: $PEDULI_CONFIG, else /etc/peduli-worker/config.yaml if present).",
            valueName: "path"))
    var config: String?
}

/// Writes a message to standard error (fd 2), newline added.
func printError(_ message: String) {
    LogfmtLogHandler.writeToStandardError(message.hasSuffix("\n") ? message : message + "\n")
}

/// Loads the configuration for a command, or ends the process with 78 and every problem listed.
func loadConfiguration(
    _ options: CommonOptions,
    requiring requirements: WorkerConfiguration.Requirements,
    loader: ConfigurationLoader = ConfigurationLoader()
) throws -> WorkerConfiguration {
    do {
        return try WorkerConfiguration.load(configPath: options.config, requiring: requirements, loader: loader)
    } catch {
        printError("peduli-worker: \(error.description)")
        throw ExitCode(ExitCodes.configuration)
    }
}

/// Installs the logfmt handler at the configured level, once per process.
func bootstrapLogging(_ configuration: WorkerConfiguration) -> Logger {
    LogfmtLogHandler.bootstrap(logLevel: configuration.worker.logLevel)
    return Logger(label: "peduli-worker")
}

/// A `YYYY-MM-DD` argument naming a real day (on the Jakarta calendar, by convention of the caller).
struct CalendarDate: ExpressibleByArgument, Sendable, Equatable, CustomStringConvertible {
    let year: Int
    let month: Int
    let day: Int

    init?(argument: String) {
        guard WorkerConfiguration.isCalendarDate(argument) else { return nil }
        let parts = argument.split(separator: "-").compactMap { Int($0) }
        (year, month, day) = (parts[0], parts[1], parts[2])
    }

    var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
