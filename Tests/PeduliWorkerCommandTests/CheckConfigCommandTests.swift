import Foundation
import PeduliSettings
import Testing

@testable import PeduliWorkerCommand

@Suite("check-config output")
struct CheckConfigCommandTests {
    @Test("lists every key once with its origin, and never a password")
    func render() throws {
        let directory = try TemporaryDirectory()
        try directory.write("amqp_url", "amqp://worker:topsecret1@broker:5672/%2F\n")
        try directory.write("database_url", "host=db user=worker password='top secret2' dbname=peduli\n")
        let config = try directory.write("config.yaml", "worker:\n  prefetch: 800\n")
        var loader = ConfigurationLoader(environment: [
            "CREDENTIALS_DIRECTORY": directory.path, "PEDULI_ROSTER_ENFORCE": "false",
        ])
        loader.defaultFiles = []
        let configuration = try WorkerConfiguration.load(configPath: config, requiring: .all, loader: loader)
        let text = CheckConfigCommand.render(configuration)
        #expect(!text.contains("topsecret1") && !text.contains("top secret2"))
        #expect(text.contains("amqp://worker:***@broker:5672/%2F  # credential file \(directory.path)/amqp_url"))
        #expect(text.contains("host=db user=worker password=*** dbname=peduli  # credential file"))
        #expect(text.contains("= 800  # \(config):2"))
        #expect(text.contains("= false  # environment PEDULI_ROSTER_ENFORCE"))
        #expect(text.hasPrefix("# configuration file: \(config)\n"))
        let lines = text.split(separator: "\n").dropFirst()
        #expect(lines.count == ConfigurationKeys.all.count)
    }
}
