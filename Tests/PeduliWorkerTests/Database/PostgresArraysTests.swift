import Testing

@testable import PeduliWorker

struct PostgresArraysTests {
    static let cases: [([String?], String)] = [
        ([], "{}"),
        (["a"], "{\"a\"}"),
        (["a,b", nil, ""], "{\"a,b\",NULL,\"\"}"),
        (["quote\"", "back\\slash", "{brace}"], "{\"quote\\\"\",\"back\\\\slash\",\"{brace}\"}"),
        (["NULL"], "{\"NULL\"}"),
        // Escapes at the edges and next to each other (the builder copies the runs between them).
        (["\"", "\\", "\"\\\"", "a\"\"b"], #"{"\"","\\","\"\\\"","a\"\"b"}"#),
        (["{\"nik\":\"3374\"}"], #"{"{\"nik\":\"3374\"}"}"#),
        (["Budi Santoso — ✓"], "{\"Budi Santoso — ✓\"}"),
    ]

    @Test(arguments: cases)
    func textArraysQuoteEverything(_ values: [String?], _ expected: String) {
        #expect(PostgresArray.text(values) == expected)
    }

    @Test func numbersAndBooleans() {
        #expect(PostgresArray.int64([1, -2, .max]) == "{1,-2,9223372036854775807}")
        #expect(PostgresArray.int([1, nil]) == "{1,NULL}")
        #expect(PostgresArray.bool([true, false]) == "{t,f}")
        #expect(PostgresArray.joined([["a", "b"], []]) == "{\"a,b\",\"\"}")
    }

    @Test func hexOfBytes() {
        #expect(PostgresArray.hex([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(PropertiesCodec.unhex("00abFF") == [0x00, 0xAB, 0xFF])
        #expect(PropertiesCodec.unhex("0") == nil && PropertiesCodec.unhex("zz") == nil)
    }
}
