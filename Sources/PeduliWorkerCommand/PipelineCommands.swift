import ArgumentParser
import Foundation

// The commands below validate their arguments and configuration here, then make one call into
// the pipeline module (PeduliWorker), marked `WIRING:`. Until the pipeline lands, that call is
// `notWiredYet`, which exits 70.

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker daemon.",
        discussion: """
            Declares the broker topology, consumes registration and payment commands, stores the \
            outcomes, publishes events and runs the reminder scheduler, until SIGTERM or SIGINT; then \
            stops taking messages, finishes what is in flight within worker.drain_seconds and exits 0. \
            Serves /metrics, /healthz and /readyz on metrics.listen. Under systemd (Type=notify) it \
            reports READY=1 once consuming, pings the watchdog while healthy and STOPPING=1 on shutdown. \
            Exits 69 if the broker or database does not answer within worker.startup_wait_seconds.
            """
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .all)
        _ = configuration
        // WIRING: bootstrapLogging(configuration); bootstrapMetrics(); then
        //   try await PeduliWorker.run(configuration:..., operationalServices: makeOperationalServices(...))
        // inside a ServiceGroup with the metrics endpoint and the watchdog (see OperationalServices.swift).
        throw notWiredYet("run")
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the database schema up to date.",
        discussion: """
            Applies the schema migrations that have not run yet, under a lock, so it is safe to run \
            twice and from two hosts at once. Needs only the database URL. The systemd unit runs it \
            before every start (ExecStartPre=).
            """
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .database)
        _ = configuration
        // WIRING: try await PeduliWorker.migrate(database: configuration.database, logger: bootstrapLogging(configuration))
        throw notWiredYet("migrate")
    }
}

struct RemindersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reminders",
        abstract: "Run the reminder scheduler by hand.",
        subcommands: [RemindersRunCommand.self]
    )
}

struct RemindersRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one reminder pass as if today were the given Jakarta date.",
        discussion: """
            Computes the payment-due, overdue, membership-ended and age-limit reminders for --as-of \
            (YYYY-MM-DD, Asia/Jakarta) and publishes those not sent before; each is sent at most once \
            per registration and month, whoever runs the pass. With --dry-run it lists what it would \
            emit and changes nothing.
            """
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The Jakarta date of the pass.", valueName: "YYYY-MM-DD"))
    var asOf: CalendarDate

    @Flag(name: .customLong("dry-run"), help: "List the reminders that would be emitted; publish and record nothing.")
    var dryRun = false

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: dryRun ? .database : .all)
        _ = configuration
        // WIRING: try await PeduliWorker.runReminders(asOf: asOf, dryRun: dryRun, configuration: ...)
        throw notWiredYet("reminders run")
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print registrations, coverage and ASN participation.",
        discussion: """
            Counts registered and active registrations by unit (OPD) and kecamatan, the city's \
            coverage rate against the baseline (report.baseline_*), and ASN participation per unit, \
            as of --as-of (YYYY-MM-DD, Asia/Jakarta; default today). Reads the database only.
            """
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The Jakarta date of the report (default: today).", valueName: "YYYY-MM-DD"))
    var asOf: CalendarDate?

    @Option(help: "Output format.")
    var format: ReportFormat = .text

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .database)
        _ = configuration
        // WIRING: print(try await PeduliWorker.report(asOf: asOf ?? today in Asia/Jakarta, format: format, ...))
        throw notWiredYet("report")
    }
}
