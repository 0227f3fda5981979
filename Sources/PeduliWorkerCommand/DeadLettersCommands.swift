import ArgumentParser
import Foundation
import PeduliWorker

// `peduli-worker dead-letters list|show|replay|purge` (docs/operations.md, "Dead letters"). The logic is in
// PeduliWorker/DeadLetters; these commands parse, print and map failures to exit codes.

struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "Read, replay or purge the parked messages of topology.dead_queue.",
        discussion: """
            A parked message is named by its message_id or by its position #N in the queue, as `list` \
            prints it (stable while nothing else takes messages from the queue). Reading returns every \
            message to the queue in its order; only `replay` and `purge` remove any.
            """,
        subcommands: [
            DeadLettersListCommand.self, DeadLettersShowCommand.self, DeadLettersReplayCommand.self,
            DeadLettersPurgeCommand.self,
        ]
    )
}

/// Builds the tool from the configuration: the broker URL (the worker's own user), the topology.
func deadLettersTool(
    _ options: CommonOptions, requiring: WorkerConfiguration.Requirements
) throws -> (
    DeadLetters, WorkerConfiguration
) {
    let configuration = try loadConfiguration(options, requiring: requiring)
    let logger = bootstrapLogging(configuration)
    let amqp = try configurationStep {
        try configuration.amqpConfiguration(connectionName: "peduli-worker dead-letters")
    }
    return (
        DeadLetters(amqp: amqp, topology: configuration.pipelineConfiguration().topology, logger: logger), configuration
    )
}

enum DeadLetterText {
    static func time(_ m: ParkedMessage) -> String {
        guard let at = m.parkedAt else { return "time unknown" }
        let text = ISO8601DateFormatter().string(from: at)
        return m.timeSource == "parked" || m.timeSource == "x-death" ? text : "\(text) (\(m.timeSource))"
    }

    static func publisher(_ m: ParkedMessage) -> String {
        if let p = m.publisher { return p }
        if let claimed = m.unverifiedPublisher { return "\(claimed) (unverified)" }
        return "-"
    }

    /// One line per message, then its masked body indented.
    static func line(_ m: ParkedMessage) -> String {
        let fields = [
            "#\(m.position)", m.messageID ?? "-", m.reason, m.queue ?? "-", publisher(m), time(m),
            m.detail ?? (m.workQueueDeliveries.map { "delivered \($0) times" } ?? "-"),
        ]
        return fields.joined(separator: "\t") + "\n    " + BodyMasking.masked(m.delivery.body, limit: 400)
    }

    static func detail(_ m: ParkedMessage) -> String {
        let p = m.delivery.properties
        var rows: [(String, String)] = [
            ("position", "#\(m.position)"), ("message_id", m.messageID ?? "-"), ("reason", m.reason),
            ("detail", m.detail ?? "-"), ("queue", m.queue ?? "-"), ("publisher", publisher(m)),
            ("parked at", time(m)), ("routing key", m.delivery.routingKey),
            ("content type", p.contentType ?? "-"), ("correlation id", p.correlationId ?? "-"),
            ("app id", p.appId ?? "-"), ("body", "\(m.delivery.body.count) bytes"),
            ("reads", "\(m.deadLetterDeliveries) earlier deliveries from the dead-letters queue"),
        ]
        if let n = m.workQueueDeliveries { rows.append(("work queue deliveries", "\(n)")) }
        if m.needsForce { rows.append(("replay", "needs --force")) }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
            .joined(separator: "\n") + "\n" + BodyMasking.masked(m.delivery.body) + "\n"
    }
}

struct DeadLettersListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the parked messages, oldest first, with a masked body.",
        discussion: """
            Columns: position, message_id, reason, source queue, publisher, time parked, detail; then the \
            body with NIKs, phone numbers, addresses and birth dates masked. Reads at most 65,535 messages; \
            every message stays in the queue, in its order. Needs the broker URL only.
            """
    )

    @OptionGroup var options: CommonOptions
    @Option(help: ArgumentHelp("Only messages parked for this reason (or delivery_limit).", valueName: "code"))
    var reason: String?
    @Option(help: "At most this many messages.") var limit: Int = 100

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let (tool, _) = try deadLettersTool(options, requiring: .amqp)
        let reason = self.reason
        do {
            let all = try await onThread { try tool.read() }
            let shown = all.filter { reason == nil || $0.reason == reason }
            for m in shown.prefix(limit) { print(DeadLetterText.line(m)) }
            print(
                "\(min(shown.count, limit)) of \(shown.count) parked message(s)"
                    + (reason.map { " with reason \($0)" } ?? "") + " shown; \(all.count) in the queue")
        } catch {
            throw failureExit(error, logger: tool.logger)
        }
    }
}

struct DeadLettersShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one parked message, masked.",
        discussion: "ID is a message_id (every copy with that id is shown) or a position #N. Removes nothing."
    )

    @OptionGroup var options: CommonOptions
    @Argument(help: "message_id or #position") var id: String

    func run() async throws {
        let (tool, _) = try deadLettersTool(options, requiring: .amqp)
        let id = self.id
        let selected: [ParkedMessage]
        do {
            selected = try DeadLetters.select(.ids([id]), from: try await onThread { try tool.read() })
        } catch let error as DeadLetters.SelectionError {
            printError("peduli-worker: \(error)")
            throw ExitCode(ExitCodes.usage)
        } catch {
            throw failureExit(error, logger: tool.logger)
        }
        print(selected.map(DeadLetterText.detail).joined(separator: "\n"), terminator: "")
    }
}

struct DeadLettersReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Republish parked commands with a new message_id.",
        discussion: """
            Republishes each named message (or every one with --reason) to topology.inbound_exchange with \
            its command routing key and a new message_id, under the worker's own AMQP user, with the original \
            publisher in x-peduli-user-id (the worker checks it against security.allowed_publishers again). \
            The parked copy is removed only after the broker confirmed the replay; each replay is recorded \
            in the dead_letter_replays table (old -> new message_id), so a run interrupted after the confirm \
            only removes the copy when repeated. conflicting_duplicate and delivery_limit messages need \
            --force. Needs both URLs. Exit 64 when an ID names nothing or a message needs --force (nothing \
            is replayed then), 69 when the broker refused or could not route a replay.
            """
    )

    @OptionGroup var options: CommonOptions
    @Argument(help: "message_id or #position of each message to replay") var ids: [String] = []
    @Option(help: ArgumentHelp("Replay every message parked for this reason.", valueName: "code")) var reason: String?
    @Flag(help: "Also replay conflicting_duplicate and delivery_limit messages.") var force = false
    @Option(name: .customLong("operator"), help: "Who replays, for the record (default: the login name).")
    var operatorName: String?

    func validate() throws {
        if ids.isEmpty == (reason == nil) { throw ValidationError("give either IDs or --reason CODE") }
    }

    func run() async throws {
        let (tool, configuration) = try deadLettersTool(options, requiring: .all)
        let database = try configurationStep { try configuration.databaseConfiguration() }
        let selection: DeadLetters.Selection = reason.map { .reason($0) } ?? .ids(ids)
        let force = self.force
        let who = operatorName ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        let killAfterConfirm = ProcessInfo.processInfo.environment["PEDULI_TEST_DEAD_LETTERS_KILL_AFTER_CONFIRM"] == "1"
        let results: [DeadLetters.ReplayResult]
        do {
            results = try await onThread {
                try tool.replay(selection, force: force, operator: who, database: database) { _ in
                    // Test hook: die the hardest way between the broker's confirm and the removal of the copy.
                    if killAfterConfirm { kill(getpid(), SIGKILL) }
                }
            }
        } catch let error as DeadLetters.SelectionError {
            printError(
                "peduli-worker: nothing replayed:\n" + error.problems.map { "  - \($0)" }.joined(separator: "\n"))
            throw ExitCode(ExitCodes.usage)
        } catch {
            throw failureExit(error, logger: tool.logger)
        }
        var failed = 0
        for r in results {
            let old = "#\(r.message.position) \(r.message.messageID ?? "-")"
            switch r.outcome {
            case .replayed(let id): print("\(old) -> \(id)\treplayed")
            case .alreadyReplayed(let id): print("\(old) -> \(id)\talready replayed; parked copy removed")
            case .failed(let why):
                failed += 1
                print("\(old)\tnot replayed: \(why); left parked")
            }
        }
        print("\(results.count - failed) of \(results.count) replayed")
        if failed > 0 { throw ExitCode(ExitCodes.dependencyUnavailable) }
    }
}

/// `30d`, `12h`, `90m`, `3600s`.
struct AgeArgument: ExpressibleByArgument, Sendable {
    let duration: Duration
    init?(argument: String) {
        guard let unit = argument.last, let n = Int(argument.dropLast()), n >= 0 else { return nil }
        switch unit {
        case "s": duration = .seconds(n)
        case "m": duration = .seconds(n * 60)
        case "h": duration = .seconds(n * 3600)
        case "d": duration = .seconds(n * 86_400)
        default: return nil
        }
    }
}

struct DeadLettersPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Remove parked messages of one reason for good.",
        discussion: """
            Removes the messages parked for --reason before now minus --older-than (30d, 12h, 90m, 3600s). \
            The time is x-peduli-parked-at, or the x-death time of a delivery_limit message, else the \
            message's own timestamp; a message whose time is unknown is kept. Needs the broker URL only.
            """
    )

    @OptionGroup var options: CommonOptions
    @Option(help: ArgumentHelp("The reason code (or delivery_limit).", valueName: "code")) var reason: String
    @Option(name: .customLong("older-than"), help: ArgumentHelp("Minimum age.", valueName: "duration"))
    var olderThan: AgeArgument

    func run() async throws {
        let (tool, _) = try deadLettersTool(options, requiring: .amqp)
        let (reason, age) = (self.reason, olderThan.duration)
        do {
            let result = try await onThread { try tool.purge(reason: reason, olderThan: age) }
            for m in result.purged { print("#\(m.position) \(m.messageID ?? "-")\tpurged") }
            print("\(result.purged.count) purged; \(result.kept) with reason \(reason) kept (newer or time unknown)")
        } catch {
            throw failureExit(error, logger: tool.logger)
        }
    }
}
