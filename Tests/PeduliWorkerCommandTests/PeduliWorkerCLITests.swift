import ArgumentParser
import Foundation
import Testing

@testable import PeduliWorkerCommand

@Suite("Command line")
struct PeduliWorkerCLITests {
    @Test(
        "every command of docs/operations.md parses, with --config",
        arguments: [
            ["run", "--config", "/c.yaml"], ["migrate", "--config", "/c.yaml"],
            ["check-config", "--config", "/c.yaml"],
            ["roster", "import", "roster.csv", "--config", "/c.yaml"],
            ["covered", "import", "covered.csv", "--config", "/c.yaml"],
            ["reminders", "run", "--as-of", "2026-12-08", "--config", "/c.yaml"],
            ["reminders", "run", "--as-of", "2026-12-08", "--dry-run"], ["report"],
            ["report", "--as-of", "2026-12-31", "--format", "json", "--config", "/c.yaml"],
        ])
    func parses(arguments: [String]) throws {
        let command = try PeduliWorkerCLI.parseAsRoot(arguments)
        let mirror = Mirror(reflecting: command)
        let options = mirror.children.first { $0.label == "_options" }
        #expect(options != nil)
        if arguments.contains("--config") {
            #expect("\(command)".contains("/c.yaml") || String(reflecting: options!.value).contains("/c.yaml"))
        }
    }

    @Test("parsed values")
    func values() throws {
        let reminders = try #require(
            try PeduliWorkerCLI.parseAsRoot(["reminders", "run", "--as-of", "2026-02-28", "--dry-run"])
                as? RemindersRunCommand)
        #expect(reminders.asOf.description == "2026-02-28" && reminders.dryRun)
        let report = try #require(try PeduliWorkerCLI.parseAsRoot(["report"]) as? ReportCommand)
        #expect(report.asOf == nil && report.format == .text)
        let roster = try #require(
            try PeduliWorkerCLI.parseAsRoot(["roster", "import", "a.csv"]) as? RosterImportCommand)
        #expect(roster.file == "a.csv" && roster.options.config == nil)
    }

    @Test(
        "usage errors exit 64",
        arguments: [
            ["--bogus"], ["nope"], ["reminders", "run"], ["reminders", "run", "--as-of", "2026-02-30"],
            ["reminders", "run", "--as-of", "26-02-01"], ["report", "--format", "xml"], ["roster", "import"],
            ["covered", "import", "a.csv", "b.csv"], ["run", "--config"],
        ])
    func usageErrors(arguments: [String]) {
        do {
            _ = try PeduliWorkerCLI.parseAsRoot(arguments)
            Issue.record("expected a usage error")
        } catch {
            #expect(PeduliWorkerCLI.exitCode(for: error).rawValue == ExitCodes.usage)
        }
    }

    @Test("help says what each command does")
    func help() {
        for (command, phrase) in [
            (RunCommand.self as any ParsableCommand.Type, "Run the worker daemon"), (MigrateCommand.self, "schema"),
            (CheckConfigCommand.self, "validate the configuration"), (RosterImportCommand.self, "nip,name,unit,active"),
            (CoveredImportCommand.self, "nik,scheme"), (RemindersRunCommand.self, "--dry-run"),
            (ReportCommand.self, "coverage"),
        ] {
            let text = PeduliWorkerCLI.helpMessage(for: command, columns: 1000)
            #expect(text.contains(phrase), "\(command)")
            #expect(text.contains("--config"), "\(command)")
        }
    }

    @Test("the exit codes of docs/operations.md")
    func exitCodes() {
        #expect(
            [
                ExitCodes.success, ExitCodes.usage, ExitCodes.dependencyUnavailable, ExitCodes.internalError,
                ExitCodes.configuration,
            ] == [0, 64, 69, 70, 78])
    }

    @Test("a configuration error ends the command with 78")
    func configurationExit() throws {
        let loader = ConfigurationLoader(environment: [
            "PEDULI_WORKER_PREFETCH": "x", "PEDULI_DATABASE_URL": "postgresql:///x",
        ])
        do {
            _ = try loadConfiguration(try CommonOptions.parse([]), requiring: .database, loader: loader)
            Issue.record("expected exit 78")
        } catch let exit as ExitCode {
            #expect(exit.rawValue == 78)
        }
    }
}
