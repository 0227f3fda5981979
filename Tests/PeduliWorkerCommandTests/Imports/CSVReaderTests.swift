import Testing

@testable import PeduliWorkerCommand

@Suite("Imports: CSV reader")
struct CSVReaderTests {
    @Test(
        "records and their line numbers",
        arguments: [
            ("a,b\n1,2\n", [CSVRecord(line: 1, fields: ["a", "b"]), CSVRecord(line: 2, fields: ["1", "2"])]),
            ("a,b\r\n1,2", [CSVRecord(line: 1, fields: ["a", "b"]), CSVRecord(line: 2, fields: ["1", "2"])]),
            (
                "\u{FEFF}a,b\n\n\n1,2\n",
                [CSVRecord(line: 1, fields: ["a", "b"]), CSVRecord(line: 4, fields: ["1", "2"])]
            ),
            ("a\n\"x,y\"\n", [CSVRecord(line: 1, fields: ["a"]), CSVRecord(line: 2, fields: ["x,y"])]),
            (
                "a\n\"say \"\"hi\"\"\"\n",
                [CSVRecord(line: 1, fields: ["a"]), CSVRecord(line: 2, fields: ["say \"hi\""])]
            ),
            (
                "a,b\n\"multi\nline\",2\n3,4\n",
                [
                    CSVRecord(line: 1, fields: ["a", "b"]), CSVRecord(line: 2, fields: ["multi\nline", "2"]),
                    CSVRecord(line: 4, fields: ["3", "4"]),
                ]
            ),
            ("a,b\n,\n", [CSVRecord(line: 1, fields: ["a", "b"]), CSVRecord(line: 2, fields: ["", ""])]),
            ("", []),
        ])
    func records(text: String, expected: [CSVRecord]) {
        let (records, issues) = CSVReader.records(text)
        #expect(records == expected)
        #expect(issues.isEmpty)
    }

    @Test(
        "malformed quoting is reported on its line and the record is dropped",
        arguments: [
            ("a\nx\"y\nz\n", 2, ["a", "z"]),
            ("a\n\"x\"y\nz\n", 2, ["a", "z"]),
            ("a\nz\n\"never closed\n", 3, ["a", "z"]),
        ])
    func badQuotes(text: String, line: Int, kept: [String]) {
        let (records, issues) = CSVReader.records(text)
        #expect(issues.map(\.line) == [line])
        #expect(records.map { $0.fields[0] } == kept)
    }
}
