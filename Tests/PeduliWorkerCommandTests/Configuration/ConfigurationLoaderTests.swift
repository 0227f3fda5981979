import Foundation
import PeduliSettings
import Testing

@testable import PeduliWorkerCommand

@Suite("Configuration sources and precedence")
struct ConfigurationLoaderTests {
    /// One precedence case: what each source says about `worker.prefetch`, and what must win.
    struct Layering: Sendable, CustomTestStringConvertible {
        let file: String?
        let environment: String?
        let expected: String
        let origin: String
        var testDescription: String { "file \(file ?? "-") env \(environment ?? "-") -> \(expected)" }
    }

    @Test(
        "defaults < file < environment",
        arguments: [
            Layering(file: nil, environment: nil, expected: "400", origin: "default"),
            Layering(file: "10", environment: nil, expected: "10", origin: "file"),
            Layering(file: nil, environment: "20", expected: "20", origin: "environment PEDULI_WORKER_PREFETCH"),
            Layering(file: "10", environment: "20", expected: "20", origin: "environment PEDULI_WORKER_PREFETCH"),
        ])
    func layering(_ layering: Layering) throws {
        let directory = try TemporaryDirectory()
        var environment: [String: String] = [:]
        var path: String?
        if let file = layering.file {
            path = try directory.write("config.yaml", "worker:\n  prefetch: \(file)\n")
        }
        if let value = layering.environment { environment["PEDULI_WORKER_PREFETCH"] = value }
        let raw = try ConfigurationLoader(environment: environment).load(configPath: path)
        let entry = try #require(raw.entries["worker.prefetch"])
        #expect(entry.value == .scalar(layering.expected))
        #expect(entry.origin.description.hasPrefix(layering.origin == "file" ? directory.path : layering.origin))
    }

    enum URLSource: String, CaseIterable, Sendable {
        case environment, credentialsDirectory, explicitFile
    }

    @Test(
        "URLs: environment < $CREDENTIALS_DIRECTORY < PEDULI_*_URL_FILE",
        arguments: [
            ([URLSource.environment], "amqp://env"),
            ([.environment, .credentialsDirectory], "amqp://credential"),
            ([.environment, .credentialsDirectory, .explicitFile], "amqp://explicit"),
            ([.credentialsDirectory], "amqp://credential"),
            ([.explicitFile], "amqp://explicit"),
        ])
    func urlPrecedence(sources: [URLSource], expected: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write("config.yaml", "amqp:\n  url: amqp://file\n")
        var environment: [String: String] = [:]
        for source in sources {
            switch source {
            case .environment: environment["PEDULI_AMQP_URL"] = "amqp://env"
            case .credentialsDirectory:
                try directory.write("amqp_url", "amqp://credential\n")
                environment["CREDENTIALS_DIRECTORY"] = directory.path
            case .explicitFile:
                environment["PEDULI_AMQP_URL_FILE"] = try directory.write("explicit", "  amqp://explicit \n")
            }
        }
        let raw = try ConfigurationLoader(environment: environment)
            .load(configPath: (directory.path as NSString).appendingPathComponent("config.yaml"))
        #expect(raw.entries["amqp.url"]?.value == .list([expected]))
    }

    @Test("the database credential is read from $CREDENTIALS_DIRECTORY/database_url, trimmed")
    func databaseCredential() throws {
        let directory = try TemporaryDirectory()
        try directory.write("database_url", "postgresql://u:p@db/peduli\n")
        let raw = try ConfigurationLoader(environment: ["CREDENTIALS_DIRECTORY": directory.path]).load(configPath: nil)
        #expect(raw.entries["database.url"]?.value == .scalar("postgresql://u:p@db/peduli"))
        #expect(raw.entries["database.url"]?.origin == .credential(path: directory.path + "/database_url"))
    }

    @Test("an unreadable *_URL_FILE is an error that names the file, not its contents")
    func unreadableCredential() {
        let loader = ConfigurationLoader(environment: ["PEDULI_DATABASE_URL_FILE": "/nonexistent/database_url"])
        #expect {
            try loader.load(configPath: nil)
        } throws: { error in
            let errors = (error as? ConfigurationErrors)?.errors ?? []
            return errors.count == 1 && errors[0].code == "unreadable_file" && errors[0].key == "database.url"
                && errors[0].description.contains("/nonexistent/database_url")
        }
    }

    @Test("file choice: --config, else PEDULI_CONFIG, else the first default file present, else none")
    func fileChoice() throws {
        let directory = try TemporaryDirectory()
        let explicit = try directory.write("explicit.yaml", "")
        let fromEnvironment = try directory.write("env.yaml", "")
        let yml = try directory.write("config.yml", "")
        let missing = directory.path + "/config.yaml"
        var loader = ConfigurationLoader(environment: ["PEDULI_CONFIG": fromEnvironment])
        loader.defaultFiles = [missing, yml]
        #expect(loader.configurationFilePath(explicit: explicit) == explicit)
        #expect(loader.configurationFilePath(explicit: nil) == fromEnvironment)
        loader.environment = [:]
        #expect(loader.configurationFilePath(explicit: nil) == yml)
        loader.defaultFiles = [missing]
        #expect(loader.configurationFilePath(explicit: nil) == nil)
        #expect(try loader.load(configPath: nil).filePath == nil)
    }

    @Test(
        "YAML is flattened to dotted keys; sequences, comma lists and null",
        arguments: [
            (
                "security:\n  allowed_publishers: [portal, kiosk]\n", "security.allowed_publishers",
                RawValue?.some(.list(["portal", "kiosk"]))
            ),
            (
                "security:\n  allowed_publishers: portal, kiosk\n", "security.allowed_publishers",
                .list(["portal", "kiosk"])
            ),
            ("security:\n  allowed_publishers:\n    - portal\n", "security.allowed_publishers", .list(["portal"])),
            ("worker.prefetch: 7\n", "worker.prefetch", .scalar("7")),
            ("amqp:\n  tls:\n    verify_peer: false\n", "amqp.tls.verify_peer", .scalar("false")),
            ("worker:\n  prefetch: ~\n", "worker.prefetch", .scalar("400")),
            ("worker:\n  prefetch:\n", "worker.prefetch", .scalar("400")),
            ("", "worker.prefetch", .scalar("400")),
            ("# only a comment\n", "worker.prefetch", .scalar("400")),
        ])
    func flatten(yaml: String, key: String, expected: RawValue?) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("c.yaml", yaml)
        let raw = try ConfigurationLoader(environment: [:]).load(configPath: path)
        #expect(raw.entries[key]?.value == expected)
    }

    @Test("list variables are split on commas, blanks trimmed, empties dropped")
    func environmentLists() throws {
        let raw = try ConfigurationLoader(environment: ["PEDULI_SECURITY_ALLOWED_PUBLISHERS": " portal , ,kiosk,"])
            .load(configPath: nil)
        #expect(raw.entries["security.allowed_publishers"]?.value == .list(["portal", "kiosk"]))
    }

    @Test("a comma in an AMQP password does not split the URL list (nor show the password)")
    func commaInPassword() throws {
        let raw = try ConfigurationLoader(environment: [
            "PEDULI_AMQP_URL": "amqp://peduli:s3cr,etPW@broker:5672/,amqp://peduli:s3cr,etPW@broker2/"
        ]).load(configPath: nil)
        #expect(
            raw.entries["amqp.url"]?.value
                == .list([
                    "amqp://peduli:s3cr,etPW@broker:5672/", "amqp://peduli:s3cr,etPW@broker2/",
                ]))
        let shown = Redaction.redact(key: "amqp.url", value: "amqp://peduli:s3cr,etPW@broker:5672/")
        #expect(shown == "amqp://peduli:***@broker:5672/")
    }

    @Test("unrelated PEDULI_ variables are ignored")
    func unrelatedEnvironment() throws {
        let raw = try ConfigurationLoader(environment: ["PEDULI_TEST_AMQP_URL": "x", "PEDULI_AMQP_PORT": "5703"])
            .load(configPath: nil)
        #expect(raw.entries["amqp.url"] == nil)
    }
}
