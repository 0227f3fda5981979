import Foundation
import Testing

@testable import PostgresClient

@Suite struct PostgresResultTests {
    let result = PostgresResult(
        columns: ["id", "nik", "active", "due", "at", "token", "note"],
        rows: [
            [
                "7", "3374011234560001", "t", "2026-12-01", "2026-11-25 13:31:48.5+07",
                "e621e1f8-c36c-495a-93fc-0c247a3e6e5f", nil,
            ],
            ["x", "", "maybe", "2026-02-30", "yesterday", "not-a-uuid", "hello"],
        ])

    @Test func decodesTypedValues() throws {
        let row = result[0]
        #expect(try row.int("id") == 7)
        #expect(try row.int64("id") == 7)
        #expect(try row.string("nik") == "3374011234560001")
        #expect(try row.bool("active"))
        #expect(try row.date("due") == PostgresDate(year: 2026, month: 12, day: 1))
        #expect(try row.timestamp("at").timeIntervalSince1970 == 1_795_588_308.5)
        #expect(try row.uuid("token") == UUID(uuidString: "e621e1f8-c36c-495a-93fc-0c247a3e6e5f"))
        #expect(try row.isNull("note"))
        #expect(try !row.isNull("id"))
        #expect(try row.decode(String?.self, "note") == nil)
        #expect(try result[1].decode(String?.self, "note") == "hello")
        #expect(row["nik"] == "3374011234560001")
        #expect(row["note"] == nil)
        #expect(row[0] == "7")
    }

    @Test(arguments: ["id", "active", "due", "at", "token"])
    func decodingErrorsNameColumnAndTypeButNotValue(column: String) throws {
        let row = result[1]
        let wanted: [String: (PostgresRow) throws -> Any] = [
            "id": { try $0.int("id") }, "active": { try $0.bool("active") }, "due": { try $0.date("due") },
            "at": { try $0.timestamp("at") }, "token": { try $0.uuid("token") },
        ]
        let error = try #require(throws: PostgresError.self) { _ = try wanted[column]!(row) }
        #expect(error.code == .decoding)
        #expect(error.description.contains("\"\(column)\""))
        #expect(!error.description.contains(row[column]!))
    }

    @Test func nullWhereValueRequiredIsAnError() throws {
        let error = try #require(throws: PostgresError.self) { _ = try result[0].string("note") }
        #expect(error.description.contains("NULL"))
        #expect(error.description.contains("\"note\""))
    }

    @Test func unknownColumnListsColumnsNotValues() throws {
        let error = try #require(throws: PostgresError.self) { _ = try result[0].string("nope") }
        #expect(error.description.contains("nope"))
        #expect(error.description.contains("nik"))
        #expect(!error.description.contains("3374011234560001"))
    }

    @Test func collectionShape() {
        #expect(result.count == 2)
        #expect(result.columns.count == 7)
        #expect(result.map { $0["id"] } == ["7", "x"])
    }
}
