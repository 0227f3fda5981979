import ArgumentParser
import Foundation
import PeduliDomain
import PeduliWorker
import PostgresClient

/// Who acts on personal data, for the audit trail: `--operator NAME`, else the operating-system user.
struct OperatorOption: ParsableArguments {
    @Option(name: .customLong("operator"), help: "Name recorded in the audit trail (default: the system user).")
    var name: String?

    var resolved: String {
        if let name, !name.isEmpty { return name }
        return ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
            ?? NSUserName()
    }
}

/// `peduli-worker subject`: a data subject's rights (UU 27/2022): see what is held, erase it.
struct SubjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subject",
        abstract: "Show or erase what is held on one worker (by NIK); every use is in the audit trail.",
        subcommands: [SubjectShowCommand.self, SubjectEraseCommand.self]
    )
}

/// A NIK as the operator typed it: 16 digits, or exit 64 without echoing it.
func subjectNIK(_ text: String) throws -> String {
    let digits = text.trimmingCharacters(in: .whitespaces)
    guard digits.utf8.count == 16, digits.utf8.allSatisfy({ (48...57).contains($0) }) else {
        printError("peduli-worker: expected a NIK of 16 digits")
        throw ExitCode(ExitCodes.usage)
    }
    return digits
}

struct SubjectShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print what is held on a NIK (decrypted) and its processing record, to the operator only.")

    @OptionGroup var options: CommonOptions
    @OptionGroup var actor: OperatorOption
    @Argument(help: "The worker's NIK (16 digits).") var nik: String

    func run() async throws {
        let nik = try subjectNIK(self.nik)
        let configuration = try loadConfiguration(options, requiring: .database)
        let logger = bootstrapLogging(configuration)
        let (database, keys) = try configurationStep {
            (try configuration.databaseConfiguration(), try configuration.dataKeys())
        }
        let operations = PersonalDataOperations(keys: keys, operatorName: actor.resolved)
        do {
            let subject = try await onThread {
                try operations.show(nik: nik, on: try PostgresConnection(configuration: database, logger: logger))
            }
            print(Self.render(subject))
        } catch {
            throw failureExit(error, logger: logger)
        }
    }

    static func render(_ s: PersonalDataOperations.Subject) -> String {
        var lines: [String] = []
        if s.registrations.isEmpty { lines.append("no registration holds this NIK") }
        for r in s.registrations {
            lines.append("registration \(r.registrationID.canonicalString)")
            lines.append("  accepted:     \(RFC3339.format(r.acceptedAt))")
            lines.append("  ended:        \(r.endedAt.map(RFC3339.format) ?? "-")")
            if let erased = r.erasedAt { lines.append("  erased:       \(RFC3339.format(erased))") }
            lines.append("  nik:          \(r.nik ?? "(erased)")")
            lines.append("  name:         \(r.name ?? "(erased)")")
            lines.append("  birth date:   \(r.birthDate ?? "(erased)")")
            lines.append("  phone:        \(r.phone ?? "-")")
            lines.append("  address:      \(r.address ?? "-")")
            lines.append("  sponsor NIP:  \(r.sponsorNIP)")
            lines.append("  kecamatan:    \(r.kecamatan)   occupation: \(r.occupation)")
            lines.append("  paid through: \(r.paidThrough ?? "-")")
        }
        lines.append("processing record:")
        for e in s.record {
            let reasons = e.reasons.isEmpty ? "" : " (\(e.reasons.joined(separator: ",")))"
            lines.append(
                "  \(RFC3339.format(e.at))  \(e.command) \(e.key)  \(e.outcome)\(reasons)  event: \(e.event ?? "-")")
        }
        return lines.joined(separator: "\n")
    }
}

struct SubjectEraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Remove a NIK's personal data, keeping the anonymous facts the report counts.")

    @OptionGroup var options: CommonOptions
    @OptionGroup var actor: OperatorOption
    @Argument(help: "The worker's NIK (16 digits).") var nik: String
    @Option(help: "Why (recorded in the audit trail).") var reason: String

    func run() async throws {
        let nik = try subjectNIK(self.nik)
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            printError("peduli-worker: --reason must say why")
            throw ExitCode(ExitCodes.usage)
        }
        let configuration = try loadConfiguration(options, requiring: .database)
        let logger = bootstrapLogging(configuration)
        let (database, keys) = try configurationStep {
            (try configuration.databaseConfiguration(), try configuration.dataKeys())
        }
        let operations = PersonalDataOperations(keys: keys, operatorName: actor.resolved)
        let reason = self.reason
        do {
            let erased = try await onThread {
                try operations.erase(
                    nik: nik, reason: reason, on: try PostgresConnection(configuration: database, logger: logger))
            }
            print("erased the personal data of \(erased) registration(s)")
        } catch {
            throw failureExit(error, logger: logger)
        }
    }
}

/// Re-encrypts every value not under the current key (the key file's last line), online and resumable.
struct KeysRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Re-encrypt, in batches and online, every stored value not under the current key.")

    @OptionGroup var options: CommonOptions
    @OptionGroup var actor: OperatorOption

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: .database)
        let logger = bootstrapLogging(configuration)
        let (database, keys) = try configurationStep {
            (try configuration.databaseConfiguration(), try configuration.dataKeys())
        }
        let operations = PersonalDataOperations(keys: keys, operatorName: actor.resolved)
        do {
            let result = try await onThread {
                try operations.rotate(on: try PostgresConnection(configuration: database, logger: logger))
            }
            print("re-encrypted \(result.rotated) row(s) under key \(keys.currentID); \(result.left) left")
        } catch {
            throw failureExit(error, logger: logger)
        }
    }
}
