import ArgumentParser
import Foundation

/// `peduli-worker check-config`: the one place an operator can see what the worker will use.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Load and validate the configuration, and print the effective values.",
        discussion: """
            Reads the configuration exactly as `run` would (defaults, file, environment, credential \
            files), checks every key and everything `run` checks before it connects (the URLs and their \
            parameters, the rules, the catalogues), and prints each key with its effective value and where \
            it came from. Warns about PEDULI_* environment variables that name no key. Secrets (passwords in URLs) are shown as ***. Prints every problem found and exits \
            78 if there is any; 0 otherwise. Needs both PEDULI_AMQP_URL and PEDULI_DATABASE_URL \
            (or their credential files), as `run` does. Connects to nothing.
            """
    )

    @OptionGroup var options: CommonOptions

    @Flag(help: "Print an example configuration file with every key and its default, and exit.")
    var example = false

    func run() throws {
        if example {
            print(ExampleConfiguration.render(), terminator: "")
            return
        }
        let loader = ConfigurationLoader()
        for warning in loader.unknownEnvironmentVariables() {
            printError("peduli-worker: warning: \(warning)")
        }
        let configuration = try loadConfiguration(options, requiring: .all, loader: loader)
        var problems = configuration.clientProblems()
        for (key, path) in [
            ("amqp.tls.ca_file", configuration.amqp.tls.caFile),
            ("amqp.tls.cert_file", configuration.amqp.tls.certFile),
            ("amqp.tls.key_file", configuration.amqp.tls.keyFile),
        ] where !path.isEmpty && !FileManager.default.isReadableFile(atPath: path) {
            problems.append("\(key) = \"\(path)\": file does not exist or is not readable")
        }
        if let directory = configuration.rules.cataloguesDirectory {
            for file in ["occupations.csv", "kecamatan.csv", "kelurahan.csv"] {
                let path = (directory as NSString).appendingPathComponent(file)
                if !FileManager.default.isReadableFile(atPath: path) {
                    problems.append("catalogues.directory = \"\(directory)\": \(file) is missing or not readable")
                }
            }
        }
        if !problems.isEmpty {
            printError(
                "peduli-worker: configuration errors (\(problems.count)):\n"
                    + problems.map { "  - \($0)" }.joined(separator: "\n"))
            throw ExitCode(ExitCodes.configuration)
        }
        print(Self.render(configuration), terminator: "")
    }

    /// `key = value  # origin`, one per key in the table's order, after a line naming the file.
    static func render(_ configuration: WorkerConfiguration) -> String {
        var text = "# configuration file: \(configuration.filePath ?? "none")\n"
        let width = configuration.effective.map(\.key.count).max() ?? 0
        for entry in configuration.effective {
            let padded = entry.key.padding(toLength: width, withPad: " ", startingAt: 0)
            text += "\(padded) = \(entry.value)  # \(entry.origin?.description ?? "not set")\n"
        }
        return text
    }
}
