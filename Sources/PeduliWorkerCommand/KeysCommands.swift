import ArgumentParser
import Foundation
import PeduliPrivacy

/// `peduli-worker keys`: the data keys that seal personal data at rest.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the data keys that protect personal data at rest.",
        subcommands: [KeysGenerateCommand.self, KeysRotateCommand.self]
    )
}

/// Prints a new key line to append to the key file: the next id after the configured file's highest (1 when
/// there is none yet) and 32 random bytes. It never writes the file itself: the operator decides where the
/// line goes and who may read it.
struct KeysGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Print a new data-key line (ID BASE64) to append to the key file.",
        discussion: """
            Append the line to the file named by security.data_keys_file (mode 0600, readable by the service \
            only). The last line of the file encrypts new values; keep every earlier line until `keys rotate` \
            has re-encrypted the values under it, and never remove the first line: the NIK index is derived \
            from it.
            """
    )

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try loadConfiguration(options, requiring: [])
        var existing: DataKeys?
        if !configuration.security.dataKeysFile.isEmpty {
            existing = try configurationStep { try configuration.dataKeys() }
        }
        print(DataKeys.generateLine(after: existing))
    }
}
