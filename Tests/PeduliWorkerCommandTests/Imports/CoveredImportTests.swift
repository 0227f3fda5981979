import Testing

@testable import PeduliWorkerCommand

@Suite("Imports: covered by other schemes")
struct CoveredImportTests {
    @Test("good rows")
    func goodFile() {
        let result = CoveredImport.validate(
            "nik,scheme\n3374015203800001,PIJAR SEMAR\n3374015203800002, PIJAR  SEMAR \n")
        #expect(result.isValid)
        #expect(
            result.rows == [
                CoveredRow(line: 2, nik: "3374015203800001", scheme: "PIJAR SEMAR"),
                CoveredRow(line: 3, nik: "3374015203800002", scheme: "PIJAR SEMAR"),
            ])
    }

    @Test(
        "bad rows, and no message ever repeats the NIK",
        arguments: [
            (
                "337401520380000,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),
            (
                "33740152038000011,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),
            (
                "3374-15203800001,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),
            (
                "1074015203800001,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),  // province 10
            (
                "3374013203800001,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),  // day 32
            (
                "3374017203800001,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),  // day 72 (a woman born on the 32nd)
            (
                "3374011213800001,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),  // month 13
            (
                "3374013002800001,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),  // 30 February
            (
                "3374011203800000,PIJAR SEMAR", "nik",
                "expected a valid 16-digit NIK (province code, date of birth, serial)"
            ),  // serial 0000
            ("3374015203800009,", "scheme", "expected a scheme name of 1 to 100 characters"),
            ("3374015203800001,PIJAR SEMAR", "nik", "the same NIK is already on line 2"),
            ("3374015203800009", nil, "expected 2 columns, found 1"),
        ])
    func badRow(row: String, field: String?, reason: String) {
        let result = CoveredImport.validate("nik,scheme\n3374015203800001,PIJAR SEMAR\n\(row)\n")
        #expect(result.issues == [ImportIssue(line: 3, field: field, reason: reason)])
        let nik = String(row.prefix { $0 != "," })
        for issue in result.issues where nik.count >= 8 {
            #expect(!issue.description.contains(nik))
        }
    }

    @Test("the header must be nik,scheme")
    func header() {
        #expect(
            CoveredImport.validate("nik\n").issues.map(\.description) == [
                "line 1: expected the header nik,scheme, found nik"
            ])
        let headerless = CoveredImport.validate("3374015203800001,PIJAR SEMAR\n").issues.map(\.description)
        #expect(headerless == ["line 1: expected the header nik,scheme, found a line of data (the header is missing)"])
    }
}
