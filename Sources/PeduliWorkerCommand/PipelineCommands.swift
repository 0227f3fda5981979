import ArgumentParser
import Foundation
import PeduliDomain
import PeduliWorker

// The commands below validate their arguments and configuration here, then make one call into
// the pipeline module (PeduliWorker) on a thread of their own, mapping failures to exit codes.

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
        let shell = OperationalServices.bootstrap(configuration)
        for warning in ConfigurationLoader().unknownEnvironmentVariables() {
            shell.logger.warning("\(warning)")
        }
        let worker = try configurationStep {
            WorkerService(
                amqp: try configuration.amqpConfiguration(), database: try configuration.databaseConfiguration(),
                programme: try configuration.programmeConfiguration(),
                pipeline: try configuration.pipelineConfigurationWithKeys(),
                health: shell.health, statusReporter: shell.notifier,
                startupWait: .seconds(configuration.worker.startupWaitSeconds), logger: shell.logger)
        }
        shell.logger.info(
            "peduli-worker starting",
            metadata: [
                "amqp": "\(configuration.amqp.urls.count) node(s)", "prefetch": "\(configuration.worker.prefetch)",
                "batch_size": "\(configuration.worker.batchSize)",
            ])
        let group = shell.serviceGroup(pipeline: [worker], configuration: configuration)
        let logger = shell.logger
        let stops = StopCount()
        StopSignals.onSignal(logger: logger) { signal in
            if stops.next() == 1 {
                logger.info("stop signal received", metadata: ["signal": "\(signal == SIGINT ? "SIGINT" : "SIGTERM")"])
                Task { await group.triggerGracefulShutdown() }
            } else {
                logger.info("stop signal received again; the drain is already under way")
            }
        }
        do {
            try await group.run()
        } catch {
            throw failureExit(error, logger: shell.logger)
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the database schema up to date.",
        discussion: """
            Applies the schema migrations that have not run yet, under a lock, so it is safe to run \
            twice and from two hosts at once. Needs only the database URL. Optional: run applies \
            pending migrations itself on every start, waiting for the database.
            """
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .database)
        let logger = bootstrapLogging(configuration)
        let (database, keys) = try configurationStep {
            (try configuration.databaseConfiguration(), try configuration.dataKeys())
        }
        do {
            let applied = try await onThread {
                try Maintenance.migrate(database: database, keys: keys, logger: logger)
            }
            print(
                applied.isEmpty
                    ? "schema is up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
        } catch {
            throw failureExit(error, logger: logger)
        }
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
        let dryRun = self.dryRun
        let configuration = try loadConfiguration(options, requiring: dryRun ? .database : .all)
        let logger = bootstrapLogging(configuration)
        let (amqp, database, programme) = try configurationStep {
            (
                dryRun ? nil : try configuration.amqpConfiguration(connectionName: "peduli-worker reminders"),
                try configuration.databaseConfiguration(), try configuration.programmeConfiguration()
            )
        }
        let pipeline = try configurationStep { try configuration.pipelineConfigurationWithKeys() }
        let day = JakartaDate(year: asOf.year, month: asOf.month, clampingDay: asOf.day)
        do {
            let planned = try await onThread {
                try Maintenance.runReminders(
                    asOf: day, dryRun: dryRun, amqp: amqp, database: database, programme: programme,
                    pipeline: pipeline, logger: logger)
            }
            guard let planned else {
                print("another instance is running a reminder pass; nothing done")
                return
            }
            for r in planned {
                print("\(r.kind.rawValue)\t\(r.registrationID.uuidString.lowercased())\t\(r.month)")
            }
            print("\(planned.count) reminder(s) \(dryRun ? "would be emitted" : "emitted") as of \(day)")
        } catch {
            throw failureExit(error, logger: logger)
        }
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

    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp("The Jakarta date of the report (default: today).", valueName: "YYYY-MM-DD"))
    var asOf: CalendarDate?

    @Option(help: "Output format.")
    var format: ReportFormat = .text

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .database)
        let logger = bootstrapLogging(configuration)
        let (database, programme) = try configurationStep {
            (try configuration.databaseConfiguration(), try configuration.programmeConfiguration())
        }
        let day = asOf.map { JakartaDate(year: $0.year, month: $0.month, clampingDay: $0.day) } ?? JakartaDate(Date())
        let rules = configuration.rules
        do {
            let report = try await onThread {
                try Report.build(
                    asOf: day, database: database, programme: programme,
                    baselineInformalWorkers: rules.baselineInformalWorkers, baselineCovered: rules.baselineCovered,
                    logger: logger)
            }
            switch format {
            case .text: print(report.text, terminator: "")
            case .json: print(report.json.canonicalString())
            }
        } catch {
            throw failureExit(error, logger: logger)
        }
    }
}
