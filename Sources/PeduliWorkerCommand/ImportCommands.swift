import ArgumentParser
import Foundation
import PeduliDomain
import PeduliWorker

struct RosterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: "Manage the ASN roster (sponsors and payers).",
        subcommands: [RosterImportCommand.self]
    )
}

struct RosterImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load the ASN roster from a CSV file.",
        discussion: """
            FILE is CSV with the header nip,name,unit,active (active is true or false). The whole file \
            is checked first: if any line is bad, every bad line is listed with its number and \
            nothing is written (exit 64). Re-importing updates the rows already there.
            """
    )

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("The roster CSV file.", valueName: "FILE"))
    var file: String

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .database)
        let allowPPPK = configuration.rules.allowPPPK
        let validation = RosterImport.validate(try readImportFile(file), allowPPPK: allowPPPK)
        try reportIssues(validation.issues, file: file)
        let logger = bootstrapLogging(configuration)
        let database = try configurationStep { try configuration.databaseConfiguration() }
        let rows = validation.rows.map {
            Imports.RosterEntry(nip: $0.nip, name: $0.name, unit: $0.unit, active: $0.active)
        }
        do {
            let summary = try await onThread { try Imports.roster(rows, database: database, logger: logger) }
            print("roster: \(rows.count) rows read, \(summary)")
        } catch {
            throw failureExit(error, logger: logger)
        }
    }
}

struct CoveredCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "covered",
        abstract: "Manage the list of workers funded by another scheme.",
        subcommands: [CoveredImportCommand.self]
    )
}

struct CoveredImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load NIKs already funded by another scheme from a CSV file.",
        discussion: """
            FILE is CSV with the header nik,scheme (for example PIJAR SEMAR). Registrations of these \
            NIKs are rejected as covered_by_other_scheme. The whole file is checked first: if any \
            line is bad, every bad line is listed by number (never the NIK) and nothing is written \
            (exit 64).
            """
    )

    @OptionGroup var options: CommonOptions

    @Argument(help: ArgumentHelp("The CSV file of NIKs and schemes.", valueName: "FILE"))
    var file: String

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .database)
        let validation = CoveredImport.validate(try readImportFile(file), today: JakartaDate(Date()))
        try reportIssues(validation.issues, file: file)
        let logger = bootstrapLogging(configuration)
        let (database, keys) = try configurationStep {
            (try configuration.databaseConfiguration(), try configuration.dataKeys())
        }
        let rows = validation.rows.map { Imports.CoveredEntry(nik: $0.nik, scheme: $0.scheme) }
        do {
            let summary = try await onThread {
                try Imports.covered(rows, database: database, keys: keys, logger: logger)
            }
            print("covered: \(rows.count) rows read, \(summary)")
        } catch {
            throw failureExit(error, logger: logger)
        }
    }
}

/// Reads an import file as UTF-8, or exits 64 saying why.
func readImportFile(_ path: String) throws -> String {
    do {
        return try ConfigurationLoader.readFile(path)
    } catch {
        let reason =
            (error as? CocoaError)?.code == .fileReadInapplicableStringEncoding ? "not UTF-8 text" : "cannot be read"
        printError("peduli-worker: \(path): \(reason)")
        throw ExitCode(ExitCodes.usage)
    }
}

/// Lists every bad line on standard error and exits 64 when there is any.
func reportIssues(_ issues: [ImportIssue], file: String) throws {
    guard !issues.isEmpty else { return }
    printError(
        "peduli-worker: \(file): \(issues.count) bad line\(issues.count == 1 ? "" : "s"), nothing imported:\n"
            + issues.map { "  \($0.description)" }.joined(separator: "\n"))
    throw ExitCode(ExitCodes.usage)
}
