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

@Suite("check-config runs run's checks")
struct CheckConfigParityTests {
    static func configuration(_ environment: [String: String]) throws -> WorkerConfiguration {
        var loader = ConfigurationLoader(environment: environment)
        loader.defaultFiles = []
        return try WorkerConfiguration.load(configPath: nil, requiring: .all, loader: loader)
    }

    static let database = "postgresql://peduli:pw@db:5432/peduli"

    @Test("URL parameters the clients refuse are problems naming the key")
    func refusedParameters() throws {
        let amqp = try Self.configuration([
            "PEDULI_AMQP_URL": "amqp://w:secret9@h/?bogus=1", "PEDULI_DATABASE_URL": Self.database,
        ])
        #expect(
            amqp.clientProblems() == [
                "amqp.url: query parameter bogus is not supported (librabbitmq honours heartbeat, connection_timeout, channel_max and frame_max)"
            ])
        let pg = try Self.configuration([
            "PEDULI_AMQP_URL": "amqp://w:p@h/", "PEDULI_DATABASE_URL": Self.database + "?bogus=1",
        ])
        let problems = pg.clientProblems()
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("database.url: invalid PostgreSQL connection string") == true)
        #expect(problems.first?.contains("bogus") == true)
        #expect(!(amqp.clientProblems() + problems).joined().contains("secret9"))
    }

    @Test("the parameters librabbitmq honours pass, and reach the endpoint")
    func acceptedParameters() throws {
        let c = try Self.configuration([
            "PEDULI_AMQP_URL": "amqp://w:p@h/?heartbeat=10&connection_timeout=1500&channel_max=8&frame_max=65536",
            "PEDULI_DATABASE_URL": Self.database + "?sslmode=disable&application_name=x",
        ])
        #expect(c.clientProblems().isEmpty)
        let endpoint = try #require(try c.amqpConfiguration().endpoints.first)
        #expect(endpoint.options.heartbeatSeconds == 10)
        #expect(endpoint.options.connectTimeout == .milliseconds(1500))
    }

    @Test("a PEDULI_ variable that names no key is warned about, with the nearest key")
    func unknownVariables() {
        let loader = ConfigurationLoader(environment: [
            "PEDULI_WORKER_PREFECTH": "10", "PEDULI_WORKER_PREFETCH": "10", "PEDULI_CONFIG": "/x",
            "PEDULI_TEST_AMQP_URL": "amqp://", "PEDULI_AMQP_URL_FILE": "/y", "PEDULI_ZZZ": "1", "HOME": "/root",
        ])
        let warnings = loader.unknownEnvironmentVariables()
        #expect(warnings.count == 2)
        #expect(warnings.first?.contains("PEDULI_WORKER_PREFECTH names no configuration key") == true)
        #expect(warnings.first?.contains("did you mean PEDULI_WORKER_PREFETCH (key worker.prefetch)?") == true)
        #expect(warnings.last?.contains("PEDULI_ZZZ") == true)
    }
}
