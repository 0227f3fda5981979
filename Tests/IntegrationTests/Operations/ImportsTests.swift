import Foundation
import Logging
import PeduliBase
import PeduliDomain
import PeduliPrivacy
import PeduliTestSupport
import PeduliWorker
import Testing

/// `roster import` and `covered import` against a real database: through the library (idempotence,
/// updates) and through the built executable (bad files change nothing, summaries, exit codes).
@Suite(.serialized) struct ImportsTests {
    static let logger = Logger(label: "imports-test")

    static func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "peduli-import-\(UUID().uuidString).csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func rosterReimportIsIdempotentAndUpdatesActive() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let a = Imports.RosterEntry(
            nip: "198503152010011002", name: "Budi Santoso", unit: "Dinas Tenaga Kerja", active: true)
        let b = Imports.RosterEntry(nip: "199001012015032001", name: "Sari", unit: "Bappeda", active: true)
        let db = h.database, logger = Self.logger, keys = h.pipeline.dataKeys!
        let first = try await onOwnThread { try Imports.roster([a, b], database: db, logger: logger) }
        #expect(first == Imports.Summary(inserted: 2, updated: 0, unchanged: 0))
        let stamp = try h.sql("SELECT max(imported_at)::text AS t FROM sponsors")[0].string("t")

        let again = try await onOwnThread { try Imports.roster([a, b], database: db, logger: logger) }
        #expect(again == Imports.Summary(inserted: 0, updated: 0, unchanged: 2))
        #expect(
            try h.sql("SELECT max(imported_at)::text AS t FROM sponsors")[0].string("t") == stamp,
            "an unchanged row was rewritten")

        var retired = b
        retired.active = false
        let c = Imports.RosterEntry(nip: "198001012005011003", name: "Citra", unit: "Bappeda", active: true)
        let third = try await onOwnThread { [retired] in
            try Imports.roster([a, retired, c], database: db, logger: logger)
        }
        #expect(third == Imports.Summary(inserted: 1, updated: 1, unchanged: 1))
        let rows = try h.sql("SELECT nip, active, unit FROM sponsors ORDER BY nip")
        #expect(try rows.map { try $0.string("nip") } == [c.nip, a.nip, b.nip])
        #expect(try rows.map { try $0.bool("active") } == [true, true, false])
    }

    @Test func coveredReimportIsIdempotentAndUpdatesScheme() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let db = h.database, logger = Self.logger, keys = h.pipeline.dataKeys!
        let rows = [
            Imports.CoveredEntry(nik: "3374015203800001", scheme: "PIJAR SEMAR"),
            Imports.CoveredEntry(nik: "3374011203800002", scheme: "PIJAR SEMAR"),
        ]
        #expect(
            try await onOwnThread { try Imports.covered(rows, database: db, keys: keys, logger: logger) }
                == Imports.Summary(inserted: 2, updated: 0, unchanged: 0))
        #expect(
            try await onOwnThread { try Imports.covered(rows, database: db, keys: keys, logger: logger) }
                == Imports.Summary(inserted: 0, updated: 0, unchanged: 2))
        var edited = rows
        edited[1].scheme = "APBD Provinsi"
        let changed = edited
        #expect(
            try await onOwnThread { try Imports.covered(changed, database: db, keys: keys, logger: logger) }
                == Imports.Summary(inserted: 0, updated: 1, unchanged: 1))
        #expect(
            try h.sql(
                "SELECT scheme FROM covered_niks WHERE nik_hash = decode('\(Hex.encode(keys.nikHash("3374011203800002")))', 'hex')"
            )[0].string("scheme")
                == "APBD Provinsi")
    }

    /// A row the database refuses (here one the command's validation would have caught) fails the whole
    /// import: the good rows before it are not kept, and the error does not quote the row.
    @Test func aRefusedRowLeavesNothingBehind() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let db = h.database, logger = Self.logger, keys = h.pipeline.dataKeys!
        let rows = [
            Imports.CoveredEntry(nik: "3374015203800001", scheme: "PIJAR SEMAR"),
            Imports.CoveredEntry(nik: "337401120380000", scheme: "PIJAR SEMAR"),
        ]
        do {
            _ = try await onOwnThread { try Imports.covered(rows, database: db, keys: keys, logger: logger) }
            Issue.record("a 15-digit NIK was stored")
        } catch {
            #expect(!"\(error)".contains("337401120380000"), "\(error)")
            #expect(!"\(error)".contains("3374015203800001"), "\(error)")
        }
        #expect(try h.sql("SELECT count(*) AS n FROM covered_niks")[0].int("n") == 0)
    }

    @Test func rosterCommandReportsEveryBadLineAndWritesNothing() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let env = ["PEDULI_DATABASE_URL": h.databaseURL]
        let bad = try Self.write(
            """
            nip,name,unit,active
            198503152010011002,Budi Santoso,Dinas Tenaga Kerja,true
            198513152010011002,Bulan Salah,Dinas Tenaga Kerja,true
            199001012015032001,Sari,Bappeda,maybe
            198001012005011003,Citra,Bappeda,true

            """)
        let result = try await WorkerProcess.run(["roster", "import", bad], environment: env)
        #expect(result.status == 64)
        #expect(result.stderr.contains("line 3, nip:"), "\(result.stderr)")
        #expect(result.stderr.contains("line 4, active:"), "\(result.stderr)")
        #expect(!result.stderr.contains("line 2"), "\(result.stderr)")
        #expect(!result.stderr.contains("line 5"), "\(result.stderr)")
        #expect(try h.sql("SELECT count(*) AS n FROM sponsors")[0].int("n") == 0)

        // A PPPK number (digits 13-14 a code from 13 to 99) is refused when rules.allow_pppk is off.
        let pppk = try Self.write("nip,name,unit,active\n198503152021211002,Pppk,Bappeda,true\n")
        let refused = try await WorkerProcess.run(
            ["roster", "import", pppk], environment: env.merging(["PEDULI_RULES_ALLOW_PPPK": "false"]) { $1 })
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("line 2, nip:"))
        let allowed = try await WorkerProcess.run(["roster", "import", pppk], environment: env)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout == "roster: 1 rows read, 1 inserted, 0 updated, 0 unchanged\n")

        let good = try Self.write(
            """
            nip,name,unit,active
            198503152010011002,Budi Santoso,Dinas Tenaga Kerja,true
            198001012005011003,Citra,Bappeda,true

            """)
        let imported = try await WorkerProcess.run(["roster", "import", good], environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout == "roster: 2 rows read, 2 inserted, 0 updated, 0 unchanged\n")
        let again = try await WorkerProcess.run(["roster", "import", good], environment: env)
        #expect(again.stdout == "roster: 2 rows read, 0 inserted, 0 updated, 2 unchanged\n")
        let retire = try Self.write("nip,name,unit,active\n198001012005011003,Citra,Bappeda,false\n")
        let retired = try await WorkerProcess.run(["roster", "import", retire], environment: env)
        #expect(retired.stdout == "roster: 1 rows read, 0 inserted, 1 updated, 0 unchanged\n")
        #expect(try h.sql("SELECT active FROM sponsors WHERE nip = '198001012005011003'")[0].bool("active") == false)
        #expect(try h.sql("SELECT count(*) AS n FROM sponsors")[0].int("n") == 3)
    }

    @Test func coveredCommandNeverEchoesANIK() async throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        let env = ["PEDULI_DATABASE_URL": h.databaseURL]
        // Line 3: day 32 is no date; line 4: province 10 does not exist; line 5: a duplicate of line 2.
        let niks = ["3374015203800001", "3374013203800002", "1074015203800003", "3374015203800001"]
        let bad = try Self.write("nik,scheme\n" + niks.map { "\($0),PIJAR SEMAR" }.joined(separator: "\n") + "\n")
        let result = try await WorkerProcess.run(["covered", "import", bad], environment: env)
        #expect(result.status == 64)
        for line in 3...5 { #expect(result.stderr.contains("line \(line), nik:"), "\(result.stderr)") }
        for nik in niks { #expect(!(result.stdout + result.stderr).contains(nik), "a NIK was echoed") }
        #expect(try h.sql("SELECT count(*) AS n FROM covered_niks")[0].int("n") == 0)

        let good = try Self.write("nik,scheme\n3374015203800001,PIJAR SEMAR\n3374011203800002,PIJAR SEMAR\n")
        let imported = try await WorkerProcess.run(["covered", "import", good], environment: env)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout == "covered: 2 rows read, 2 inserted, 0 updated, 0 unchanged\n")
        #expect(!(imported.stdout + imported.stderr).contains("3374015203800001"))
        let again = try await WorkerProcess.run(["covered", "import", good], environment: env)
        #expect(again.stdout == "covered: 2 rows read, 0 inserted, 0 updated, 2 unchanged\n")
    }

    @Test func unreachableDatabaseExits69() async throws {
        let file = try Self.write("nik,scheme\n3374015203800001,PIJAR SEMAR\n")
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let result = try await WorkerProcess.run(
            ["covered", "import", file],
            environment: ["PEDULI_DATABASE_URL": "postgresql://peduli:secret-pw@127.0.0.1:1/peduli?connect_timeout=2"])
        #expect(result.status == 69, "\(result.stderr)")
        #expect(!result.stderr.contains("secret-pw"))
        #expect(!result.stderr.contains("3374015203800001"))
    }
}
