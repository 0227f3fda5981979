import Foundation
import Testing

@testable import PeduliWorkerCommand

/// The build's version and commit, as `--version`, the AMQP client properties and `peduli_build_info` show them.
@Suite("Build info")
struct BuildInfoTests {
    static func source(filePath: String = #filePath) throws -> String {
        var root = URL(fileURLWithPath: filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }  // file, PeduliWorkerCommandTests, Tests
        let file = root.appendingPathComponent("Sources/PeduliWorkerCommand/BuildInfo.swift")
        return try String(contentsOf: file, encoding: .utf8)
    }

    @Test("--version prints the version and the commit")
    func versionFlag() {
        #expect(PeduliWorkerCLI.configuration.version == BuildInfo.description)
        #expect(BuildInfo.description == "\(BuildInfo.version) (\(BuildInfo.commit))")
        #expect(BuildInfo.version.wholeMatch(of: /[0-9]+\.[0-9]+\.[0-9]+/) != nil)
        #expect(BuildInfo.commit.wholeMatch(of: /unknown|[0-9a-f]{7,40}/) != nil)
    }

    /// scripts/package reads the version from this one line and stamps the commit in an exported copy only.
    @Test("the repository's BuildInfo.swift holds one version line and the commit unknown")
    func committedSource() throws {
        let lines = try Self.source().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.filter { $0.hasPrefix("static let version = \"") }.count == 1)
        #expect(lines.contains("static let version = \"\(BuildInfo.version)\""))
        #expect(lines.contains("static let commit = \"unknown\""))
    }

    @Test("the AMQP connection reports the worker's version, not librabbitmq's")
    func amqpClientProperties() throws {
        var configuration = WorkerConfiguration()
        configuration.amqp.urls = ["amqp://worker:secret@broker:5672/"]
        #expect(try configuration.amqpConfiguration().version == BuildInfo.description)
        #expect(
            try configuration.amqpConfiguration(connectionName: "peduli-worker reminders").version
                == BuildInfo.description)
    }
}
