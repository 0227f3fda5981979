import Dispatch
import Foundation
import PeduliTestSupport
import PostgresClient
import Testing

/// The libpq client against the real server from `scripts/services`.
@Suite struct PostgresConnectionTests {
    typealias Support = PostgresTestSupport

    @Test func connectsAndReportsBackend() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            #expect(connection.isAlive)
            let row = try #require(
                try connection.query("SELECT pg_backend_pid() AS pid, current_setting('TimeZone') AS tz").first)
            #expect(try row.int32("pid") == connection.backendProcessID)
            #expect(try row.string("tz") == "UTC")
            #expect(!connection.configuration.description.contains(connection.configuration["password"] ?? "\u{0}"))
        }
    }

    @Test func triesSeveralHostsInOrder() async throws {
        try await onOwnThread {
            let good = try Support.configuration()
            let port = try #require(good["port"])
            // Port 1 refuses at once; libpq moves on to the second host of the list.
            let conninfo =
                "host=127.0.0.1,127.0.0.1 port=1,\(port) dbname=\(good["dbname"]!) user=\(good["user"]!) "
                + "password=\(good["password"]!) sslmode=disable"
            let connection = try PostgresConnection(configuration: PostgresConfiguration(conninfo))
            let row = try #require(
                try connection.query(
                    "SELECT current_setting('port') AS port, current_setting('application_name') AS app"
                ).first)
            #expect(try row.string("port") == port)
            #expect(try row.string("app") == PostgresConfiguration.defaultApplicationName)
        }
    }

    @Test func wrongPasswordFailsWithoutLeakingIt() async throws {
        try await onOwnThread {
            let url = ProcessInfo.processInfo.environment["PEDULI_TEST_DATABASE_URL"] ?? ""
            let good = try Support.configuration()
            let bad = url.replacingOccurrences(of: ":" + (good["password"] ?? "") + "@", with: ":WrongHorse42@")
            let error = try #require(throws: PostgresError.self) {
                _ = try PostgresConnection(configuration: PostgresConfiguration(bad))
            }
            #expect(error.code == .connectionFailed)
            #expect(error.category == .connectionLost)
            #expect(!error.description.contains("WrongHorse42"))
        }
    }

    @Test func hostileTextRoundTripsUnchanged() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let megabyte = String(repeating: "Peduli Pekerja Rentan ✓ ", count: 1_048_576 / 26)
            let values: [String?] = [
                "'; DROP TABLE students; --",
                "Robert'); DELETE FROM pg_class WHERE ('1'='1",
                "$1 $2 \\ \\x00 E'\\n' $$ dollar $$ ;",
                "Semarang 🌏 ꦱꦼꦩꦫꦁ Ünïcödé 中文 עברית \u{200B}\t\n\r",
                "",
                nil,
                megabyte,
            ]
            try Support.withTable("pg_hostile", columns: "id int PRIMARY KEY, body text", on: connection) { table in
                for (index, value) in values.enumerated() {
                    try connection.execute("INSERT INTO \(table) (id, body) VALUES ($1, $2)", [index, value])
                }
                let rows = try connection.query("SELECT id, body FROM \(table) ORDER BY id")
                #expect(rows.count == values.count)
                for row in rows {
                    let id = try row.int("id")
                    #expect(try row.decode(String?.self, "body") == values[id], "row \(id)")
                }
                let lookup = try connection.query("SELECT id FROM \(table) WHERE body = $1", [values[0]])
                #expect(try lookup.first?.int("id") == 0)
                let length = try connection.query("SELECT length(body) AS n FROM \(table) WHERE id = 6")
                #expect(try length.first?.int("n") == megabyte.count)
            }
            #expect(try connection.query("SELECT to_regclass('students') IS NULL AS gone").first?.bool("gone") == true)
        }
    }

    @Test func nulCharacterIsRefusedBeforeSending() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let error = try #require(throws: PostgresError.self) {
                try connection.query("SELECT $1::text", ["before\u{0}after"])
            }
            #expect(error.code == .invalidParameter)
            #expect(error.message.contains("$1"))
            #expect(!error.description.contains("before"))
            let truncated = try #require(throws: PostgresError.self) {
                try connection.execute(simple: "SELECT 1;\u{0} DROP TABLE nothing")
            }
            #expect(truncated.code == .misuse)
            #expect(try connection.query("SELECT 1 AS one").first?.int("one") == 1)
        }
    }

    @Test func typedValuesRoundTrip() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let instant = Date(timeIntervalSince1970: 1_795_588_308.123456)
            let day = PostgresDate(year: 2028, month: 2, day: 29)!
            let token = UUID()
            try Support.withTable(
                "pg_typed",
                columns:
                    "at timestamptz, day date, token uuid, flag bool, big bigint, small int, ratio float8, raw bytea",
                on: connection
            ) { table in
                try connection.execute(
                    "INSERT INTO \(table) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    [instant, day, token, true, Int64.max, Int32.min, 0.1, [UInt8]([0, 1, 254, 255])])
                try connection.execute(
                    "INSERT INTO \(table) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    [nil, nil, nil, false, nil, nil, nil, nil])
                let rows = try connection.query("SELECT * FROM \(table) ORDER BY flag DESC")
                let row = rows[0]
                #expect(try row.timestamp("at") == Date(timeIntervalSince1970: 1_795_588_308.123456))
                #expect(try PostgresText.encodeTimestamp(row.timestamp("at")) == "2026-11-25 06:31:48.123456+00")
                #expect(try row.date("day") == day)
                #expect(try row.uuid("token") == token)
                #expect(try row.bool("flag"))
                #expect(try row.int64("big") == Int64.max)
                #expect(try row.int32("small") == Int32.min)
                #expect(try row.double("ratio") == 0.1)
                #expect(try row.bytes("raw") == [0, 1, 254, 255])
                let nulls = rows[1]
                #expect(try !nulls.bool("flag"))
                for column in ["at", "day", "token", "big", "small", "ratio", "raw"] {
                    #expect(try nulls.isNull(column), "\(column)")
                }
                #expect(try nulls.decode(Date?.self, "at") == nil)
                // Server-side conversions with offsets read back as the same instants.
                let offsets = try connection.query(
                    "SELECT '2026-11-25 13:31:48.123456+07'::timestamptz AS a, '2026-11-25 12:01:48.123456+05:30'::timestamptz AS b, '2026-11-25 06:31:48.123456'::timestamp AS c"
                ).first!
                #expect(try offsets.timestamp("a") == offsets.timestamp("b"))
                #expect(try offsets.timestamp("a") == offsets.timestamp("c"))
                #expect(abs(try offsets.timestamp("a").timeIntervalSince1970 - 1_795_588_308.123456) < 0.000_000_5)
                // A date string is accepted where a date is expected.
                #expect(try connection.query("SELECT $1::date + 1 AS next", ["2028-02-28"]).first?.date("next") == day)
            }
        }
    }

    @Test func uniqueViolationIsDuplicateWithoutKeyValue() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            try Support.withTable("pg_dup", columns: "nik text NOT NULL", on: connection) { table in
                try connection.execute(simple: "ALTER TABLE \(table) ADD CONSTRAINT \(table)_nik_key UNIQUE (nik)")
                let nik = "3374015507900001"
                try connection.execute("INSERT INTO \(table) (nik) VALUES ($1)", [nik])
                let error = try #require(throws: PostgresError.self) {
                    try connection.execute("INSERT INTO \(table) (nik) VALUES ($1)", [nik])
                }
                #expect(error.category == .duplicate)
                #expect(error.sqlState == "23505")
                #expect(error.constraint == "\(table)_nik_key")
                #expect(!error.description.contains(nik))
                #expect(!error.message.contains(nik))
                #expect(connection.isAlive)
            }
        }
    }

    @Test func dataErrorsDoNotEchoInput() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let error = try #require(throws: PostgresError.self) {
                try connection.query("SELECT $1::uuid", ["3374015507900001"])
            }
            #expect(error.sqlState == "22P02")
            #expect(error.category == .other)
            #expect(!error.description.contains("3374015507900001"))
        }
    }

    @Test func realDeadlockIsRetryable() async throws {
        let table = Support.uniqueName("pg_deadlock")
        try await onOwnThread {
            let setup = try Support.connect()
            try setup.execute(
                simple:
                    "CREATE TABLE \(table) (id int PRIMARY KEY, v int NOT NULL); INSERT INTO \(table) VALUES (1, 0), (2, 0)"
            )
        }
        enum Outcome: Sendable, Equatable { case committed, failed(PostgresError) }
        let rendezvous = PostgresTestRendezvous()
        @Sendable func side(first: Int, second: Int, asFirst: Bool) throws -> Outcome {
            let connection = try Support.connect()
            do {
                try connection.transaction { connection in
                    try connection.execute("UPDATE \(table) SET v = v + 1 WHERE id = $1", [first])
                    guard rendezvous.arrive(asFirst: asFirst) else {
                        throw PostgresError(code: .misuse, operation: "test", message: "other side never arrived")
                    }
                    try connection.execute("UPDATE \(table) SET v = v + 1 WHERE id = $1", [second])
                }
                return .committed
            } catch let error as PostgresError {
                return .failed(error)
            }
        }
        async let a = onOwnThread { try side(first: 1, second: 2, asFirst: true) }
        async let b = onOwnThread { try side(first: 2, second: 1, asFirst: false) }
        let outcomes = try await [a, b]
        let failures = outcomes.compactMap { outcome -> PostgresError? in
            if case .failed(let error) = outcome { return error }
            return nil
        }
        #expect(outcomes.filter { $0 == .committed }.count == 1)
        #expect(failures.count == 1)
        #expect(failures.first?.sqlState == "40P01")
        #expect(failures.first?.category == .retryable)
        try await onOwnThread {
            let check = try Support.connect()
            #expect(try check.query("SELECT sum(v) AS total FROM \(table)").first?.int("total") == 2)
            try check.execute(simple: "DROP TABLE \(table)")
        }
    }

    @Test func terminatedSessionIsConnectionLostThenRecovers() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let admin = try Support.connect()
            let channel = Support.uniqueName("pg_chan")
            try connection.prepare(name: "double_it", sql: "SELECT $1::int * 2 AS doubled")
            try connection.listen(channel)
            #expect(try connection.executePrepared(name: "double_it", [21]).first?.int("doubled") == 42)
            #expect(try connection.query("SELECT 1").count == 1)  // now in the statement cache
            let oldPID = connection.backendProcessID

            let terminated = try admin.query("SELECT pg_terminate_backend($1, 5000) AS ok", [oldPID])
            #expect(try terminated.first?.bool("ok") == true)

            let error = try #require(throws: PostgresError.self) { try connection.query("SELECT 1") }
            #expect(error.category == .connectionLost)
            // An autocommit statement may have committed before the session died.
            #expect(error.commitOutcomeUnknown)
            #expect(!connection.isAlive)

            // The next call reconnects, re-prepares and listens again.
            #expect(try connection.executePrepared(name: "double_it", [50]).first?.int("doubled") == 100)
            #expect(connection.backendProcessID != oldPID)
            #expect(connection.isAlive)
            try admin.notify(channel: channel, payload: "after reconnect")
            let received = try connection.waitForNotifications(timeout: .seconds(5))
            #expect(received.map(\.payload) == ["after reconnect"])
        }
    }

    @Test func sessionSettingsHoldFromConnectAndAfterReconnect() async throws {
        try await onOwnThread {
            var configuration = try Support.configuration()
            configuration.sessionSettings = ["synchronous_commit": "off", "peduli.note": "relay test\\1"]
            let connection = try PostgresConnection(configuration: configuration)
            let read = {
                try connection.query(
                    "SELECT current_setting('synchronous_commit') AS sc, current_setting('peduli.note') AS note")[0]
            }
            #expect(try read().string("sc") == "off")
            #expect(try read().string("note") == "relay test\\1")
            // Other sessions keep the server's setting.
            #expect(try Support.connect().query("SHOW synchronous_commit")[0].string("synchronous_commit") == "on")
            try connection.reconnect()
            #expect(try read().string("sc") == "off")
        }
    }

    @Test func explicitReconnectKeepsPreparedStatements() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            try connection.prepare(name: "greet", sql: "SELECT 'halo ' || $1 AS greeting")
            let before = connection.backendProcessID
            try connection.reconnect()
            #expect(connection.backendProcessID != before)
            #expect(
                try connection.executePrepared(name: "greet", ["Semarang"]).first?.string("greeting") == "halo Semarang"
            )
            #expect(connection.preparedStatementNames == ["greet"])
            // Re-preparing the same SQL is a no-op; different SQL replaces it.
            try connection.prepare(name: "greet", sql: "SELECT 'halo ' || $1 AS greeting")
            try connection.prepare(name: "greet", sql: "SELECT 'selamat pagi ' || $1 AS greeting")
            #expect(
                try connection.executePrepared(name: "greet", ["Semarang"]).first?.string("greeting")
                    == "selamat pagi Semarang")
            #expect(throws: PostgresError.self) { try connection.executePrepared(name: "never_prepared") }
        }
    }

    @Test func transactionsCommitRollBackAndRefuseSwallowedErrors() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            try Support.withTable("pg_tx", columns: "id int PRIMARY KEY", on: connection) { table in
                let value = try connection.transaction { connection in
                    try connection.execute("INSERT INTO \(table) VALUES ($1)", [1])
                }
                #expect(value == 1)
                struct Boom: Error {}
                #expect(throws: Boom.self) {
                    try connection.transaction { connection in
                        try connection.execute("INSERT INTO \(table) VALUES ($1)", [2])
                        throw Boom()
                    }
                }
                let swallowed = try #require(throws: PostgresError.self) {
                    try connection.transaction { connection in
                        try connection.execute("INSERT INTO \(table) VALUES ($1)", [3])
                        _ = try? connection.execute("INSERT INTO \(table) VALUES ($1)", [1])
                    }
                }
                #expect(swallowed.operation == "commit")
                let nested = try #require(throws: PostgresError.self) {
                    try connection.transaction { connection in try connection.transaction { _ in } }
                }
                #expect(nested.code == .misuse)
                let ids = try connection.query("SELECT id FROM \(table) ORDER BY id").map { try $0.int("id") }
                #expect(ids == [1])
            }
        }
    }

    @Test func commitOnADeadSessionHasUnknownOutcome() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let admin = try Support.connect()
            try Support.withTable("pg_commit", columns: "id int", on: admin) { table in
                let error = try #require(throws: PostgresError.self) {
                    try connection.transaction { connection in
                        try connection.execute("INSERT INTO \(table) VALUES ($1)", [1])
                        _ = try admin.query("SELECT pg_terminate_backend($1, 5000)", [connection.backendProcessID])
                    }
                }
                #expect(error.category == .connectionLost)
                #expect(error.commitOutcomeUnknown)
                #expect(error.operation == "commit")
                // The connection recovers on the next call; here the work was in fact rolled back.
                #expect(try connection.query("SELECT count(*) AS n FROM \(table)").first?.int("n") == 0)
            }
        }
    }

    @Test func lostHandWrittenTransactionDoesNotContinueOnANewSession() async throws {
        try await onOwnThread {
            let connection = try Support.connect()
            let admin = try Support.connect()
            try connection.execute(simple: "BEGIN")
            _ = try admin.query("SELECT pg_terminate_backend($1, 5000)", [connection.backendProcessID])
            #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
            let again = try #require(throws: PostgresError.self) { try connection.query("SELECT 1") }
            #expect(again.category == .connectionLost)
            try connection.reconnect()
            #expect(try connection.query("SELECT 1 AS one").first?.int("one") == 1)
        }
    }

    @Test func listenReceivesNotifyFromAnotherSession() async throws {
        try await onOwnThread {
            let listener = try Support.connect()
            let sender = try Support.connect()
            let channel = Support.uniqueName("pg_events")
            try listener.listen(channel)
            #expect(try listener.waitForNotifications(timeout: .milliseconds(100)).isEmpty)
            try sender.notify(channel: channel, payload: "registration 42 confirmed")
            try sender.notify(channel: channel, payload: "second")
            var received: [PostgresNotification] = []
            while received.count < 2 {
                let batch = try listener.waitForNotifications(timeout: .seconds(5))
                if batch.isEmpty { break }
                received += batch
            }
            #expect(received.map(\.payload) == ["registration 42 confirmed", "second"])
            #expect(received.allSatisfy { $0.channel == channel && $0.senderProcessID == sender.backendProcessID })
            try listener.unlisten(channel)
            try sender.notify(channel: channel, payload: "ignored")
            #expect(try listener.waitForNotifications(timeout: .milliseconds(200)).isEmpty)
        }
    }
}
