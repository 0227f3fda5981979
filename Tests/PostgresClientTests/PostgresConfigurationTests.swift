import Testing

@testable import PostgresClient

@Suite struct PostgresConfigurationTests {
    @Test func parsesURLAndAddsDefaults() throws {
        let config = try PostgresConfiguration("postgresql://peduli:s3cret@db.example:6432/peduli?sslmode=require")
        #expect(config["host"] == "db.example")
        #expect(config["port"] == "6432")
        #expect(config["dbname"] == "peduli")
        #expect(config["user"] == "peduli")
        #expect(config["password"] == "s3cret")
        #expect(config["sslmode"] == "require")
        #expect(config["application_name"] == PostgresConfiguration.defaultApplicationName)
        #expect(config["connect_timeout"] == "10")
        #expect(config["client_encoding"] == "UTF8")
    }

    @Test func keepsGivenApplicationNameAndTimeout() throws {
        let config = try PostgresConfiguration(
            "host=10.0.0.5 dbname=peduli application_name=reporting connect_timeout=3")
        #expect(config["application_name"] == "reporting")
        #expect(config["connect_timeout"] == "3")
    }

    @Test func customDefaults() throws {
        let config = try PostgresConfiguration("host=h", applicationName: "peduli-bench", connectTimeoutSeconds: 2)
        #expect(config["application_name"] == "peduli-bench")
        #expect(config["connect_timeout"] == "2")
    }

    @Test func severalHosts() throws {
        let url = try PostgresConfiguration(
            "postgresql://u:pw@pg1:5432,pg2:5433/peduli?target_session_attrs=read-write")
        #expect(url["host"] == "pg1,pg2")
        #expect(url["port"] == "5432,5433")
        #expect(url["target_session_attrs"] == "read-write")
        let conninfo = try PostgresConfiguration("host=pg1,pg2 port=5432,5433 dbname=peduli")
        #expect(conninfo["host"] == "pg1,pg2")
    }

    @Test func percentDecodesURLParts() throws {
        let config = try PostgresConfiguration("postgresql://user%40corp:p%40ss%20word@host/db%2Dx")
        #expect(config["user"] == "user@corp")
        #expect(config["password"] == "p@ss word")
        #expect(config["dbname"] == "db-x")
    }

    @Test(arguments: [
        "postgresql://peduli:TopSecret99@127.0.0.1:5432/peduli",
        "host=127.0.0.1 user=peduli password=TopSecret99 dbname=peduli",
        "host=127.0.0.1 password='TopSecret99' sslpassword=TopSecret99",
    ])
    func redactedNeverShowsPassword(connectionString: String) throws {
        let config = try PostgresConfiguration(connectionString)
        #expect(!config.redacted.contains("TopSecret99"))
        #expect(!config.description.contains("TopSecret99"))
        #expect(!"\(config)".contains("TopSecret99"))
        #expect(config.redacted.contains("password=***"))
        #expect(config.redacted.contains("host=127.0.0.1"))
    }

    @Test func redactedQuotesValuesWithSpaces() throws {
        let config = try PostgresConfiguration("host=h application_name='peduli worker'")
        #expect(config.redacted.contains("application_name='peduli worker'"))
    }

    @Test(arguments: [
        "postgresql://u:Secret%zz@host/db",
        "host=h password='SecretUnterminated",
        "host=h nonsense_keyword=1",
        "postgresql://host/db?bogus=Secret",
    ])
    func rejectsBadStringsWithoutEchoingThem(connectionString: String) {
        do {
            _ = try PostgresConfiguration(connectionString)
            Issue.record("accepted \(connectionString)")
        } catch let error as PostgresError {
            #expect(error.code == .invalidConfiguration)
            #expect(!error.description.contains("Secret"))
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func sessionOptionsArePrependedToUserOptions() throws {
        let plain = try PostgresConfiguration("host=h")
        let options = plain.connectionParameters.first { $0.keyword == "options" }?.value
        #expect(options == PostgresConfiguration.sessionOptions)
        let custom = try PostgresConfiguration("host=h options='-c statement_timeout=5000'")
        let merged = custom.connectionParameters.first { $0.keyword == "options" }?.value
        #expect(merged == PostgresConfiguration.sessionOptions + " -c statement_timeout=5000")
        #expect(custom.connectionParameters.filter { $0.keyword == "options" }.count == 1)
    }

    @Test(
        arguments: [
            (nil, "host=h", ""),
            (30_000, "host=h", " -c statement_timeout=30000"),
            (0, "host=h", " -c statement_timeout=0"),
            (-5, "host=h", " -c statement_timeout=0"),
            // The connection string's own setting comes last, so it wins.
            (
                30_000, "host=h options='-c statement_timeout=5000'",
                " -c statement_timeout=30000 -c statement_timeout=5000"
            ),
        ] as [(Int?, String, String)])
    func statementTimeoutIsASessionOption(timeout: Int?, conninfo: String, expected: String) throws {
        var configuration = try PostgresConfiguration(conninfo)
        configuration.statementTimeoutMilliseconds = timeout
        let options = configuration.connectionParameters.first { $0.keyword == "options" }?.value
        #expect(options == PostgresConfiguration.sessionOptions + expected)
    }

    @Test(
        arguments: [
            ([:], "host=h", ""),
            (["synchronous_commit": "off"], "host=h", " -c synchronous_commit=off"),
            // Sorted by name, so the same settings always make the same connection string.
            (["work_mem": "8MB", "synchronous_commit": "off"], "host=h", " -c synchronous_commit=off -c work_mem=8MB"),
            // Spaces and backslashes escaped the way libpq reads them.
            (["search_path": "a b\\c"], "host=h", #" -c search_path=a\ b\\c"#),
            // After the statement timeout, before the connection string's options, which win.
            (
                ["synchronous_commit": "off"], "host=h options='-c synchronous_commit=on'",
                " -c statement_timeout=100 -c synchronous_commit=off -c synchronous_commit=on"
            ),
        ] as [([String: String], String, String)])
    func sessionSettingsAreSessionOptions(settings: [String: String], conninfo: String, expected: String) throws {
        var configuration = try PostgresConfiguration(conninfo)
        configuration.sessionSettings = settings
        if conninfo.contains("options") { configuration.statementTimeoutMilliseconds = 100 }
        let options = configuration.connectionParameters.first { $0.keyword == "options" }?.value
        #expect(options == PostgresConfiguration.sessionOptions + expected)
    }
}

@Suite struct PostgresConfigurationQueryTests {
    @Test func anUnknownURIParameterIsRefusedByNameAsLibpqRefusesIt() {
        let error = #expect(throws: PostgresError.self) {
            try PostgresConfiguration("postgresql://u:secret7@h/db?bogus=1")
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message == "invalid PostgreSQL connection string: invalid URI query parameter: \"bogus\"")
        #expect(error?.message.contains("secret7") == false)
    }
}
