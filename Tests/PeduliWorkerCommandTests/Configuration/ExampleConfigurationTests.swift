import Foundation
import PeduliSettings
import Testing

@testable import PeduliWorkerCommand

@Suite("Example configuration file")
struct ExampleConfigurationTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/peduli-worker.example.yaml").path

    @Test("the committed example is exactly what the key table renders (regenerate with check-config --example)")
    func upToDate() throws {
        let committed = try String(contentsOfFile: Self.path, encoding: .utf8)
        #expect(committed == ExampleConfiguration.render())
    }

    @Test("loading the example gives the defaults, and it holds no URL or password")
    func loadsToDefaults() throws {
        var loader = ConfigurationLoader(environment: [:])
        loader.defaultFiles = []
        let fromExample = try loader.load(configPath: Self.path)
        let defaults = try loader.load(configPath: nil)
        for key in ConfigurationKeys.all {
            #expect(fromExample.entries[key.name]?.value == defaults.entries[key.name]?.value, "\(key.name)")
        }
        #expect(fromExample.entries["amqp.url"] == nil && fromExample.entries["database.url"] == nil)
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        #expect(!text.contains("@"))
    }
}
