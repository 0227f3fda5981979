import Testing

@testable import PostgresClient

@Suite struct PostgresErrorTests {
    @Test(arguments: [
        ("23505", PostgresError.Category.duplicate),
        ("40001", .retryable),
        ("40P01", .retryable),
        ("57P01", .connectionLost),
        ("57P02", .connectionLost),
        ("57P03", .connectionLost),
        ("08000", .connectionLost),
        ("08003", .connectionLost),
        ("08006", .connectionLost),
        ("08P01", .connectionLost),
        ("23503", .other),
        ("23502", .other),
        ("23514", .other),
        ("40002", .other),
        ("57014", .other),
        ("42P01", .other),
        ("22P02", .other),
        ("", .other),
        ("2350", .other),
    ])
    func classifiesSQLState(sqlState: String, expected: PostgresError.Category) {
        #expect(PostgresError.category(forSQLState: sqlState) == expected)
    }

    @Test func missingSQLStateIsOther() {
        #expect(PostgresError.category(forSQLState: nil) == .other)
    }

    @Test(arguments: [
        (
            "22P02", "invalid input syntax for type uuid: \"3201234567890001\"",
            "invalid input syntax for type uuid: \"…\""
        ),
        ("22001", "value too long for type character varying(16)", "value too long for type character varying(16)"),
        (
            "23505", "duplicate key value violates unique constraint \"registrations_nik_key\"",
            "duplicate key value violates unique constraint \"registrations_nik_key\""
        ),
        ("42P01", "relation \"nope\" does not exist\nLINE 1: select", "relation \"nope\" does not exist"),
        ("22007", "invalid input syntax for type date: \"unterminated", "invalid input syntax for type date: \"…\""),
    ])
    func sanitizesServerMessages(sqlState: String, raw: String, expected: String) {
        #expect(PostgresError.sanitizedServerMessage(raw, sqlState: sqlState) == expected)
    }

    @Test func descriptionNamesOperationStateAndConstraint() {
        let error = PostgresError(
            code: .server, category: .duplicate, operation: "pipeline", sqlState: "23505",
            message: "duplicate key value violates unique constraint \"r_nik\"", constraint: "r_nik",
            statementIndex: 3)
        #expect(error.description.contains("pipeline"))
        #expect(error.description.contains("23505"))
        #expect(error.description.contains("duplicate"))
        #expect(error.description.contains("statement 3"))
        #expect(error.description.contains("constraint r_nik"))
        #expect(!error.description.contains("commit outcome unknown"))
        var lost = error
        lost.commitOutcomeUnknown = true
        #expect(lost.description.contains("commit outcome unknown"))
    }
}
