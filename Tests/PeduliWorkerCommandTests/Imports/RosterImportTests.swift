import Testing

@testable import PeduliWorkerCommand

@Suite("Imports: roster")
struct RosterImportTests {
    @Test("a good file gives every row, names collapsed")
    func goodFile() {
        let result = RosterImport.validate(
            """
            nip,name,unit,active
            198503152010011002,Budi  Santoso,Dinas Tenaga Kerja,true
            "199001012015032001","Sari, S.Kom",Bappeda,false

            """)
        #expect(result.isValid)
        #expect(
            result.rows == [
                RosterRow(
                    line: 2, nip: "198503152010011002", name: "Budi Santoso", unit: "Dinas Tenaga Kerja", active: true),
                RosterRow(line: 3, nip: "199001012015032001", name: "Sari, S.Kom", unit: "Bappeda", active: false),
            ])
    }

    @Test(
        "every bad row is reported with its line and reason",
        arguments: [
            (
                "19850315201001100,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),
            (
                "1985031520100110021,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),
            (
                "19850315201001100X,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),
            (
                "１９８５０３１５２０１００１１００２,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),
            (
                "198513152010011002,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),  // birth month 13
            (
                "198502302010011002,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),  // 30 February
            (
                "198503151995011002,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),  // appointed before the birth year + 15
            (
                "198503152010001002,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),  // appointment month 00
            (
                "198503152010013002,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),  // sex 3
            (
                "198503152010011000,Budi,Dinas,true", "nip",
                "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)"
            ),  // serial 000
            ("198503152010011002,,Dinas,true", "name", "expected a name of 1 to 200 characters"),
            ("198503152010011002,Budi,  ,true", "unit", "expected a unit of 1 to 200 characters"),
            ("198503152010011002,Budi,Dinas,yes", "active", "expected true or false"),
            ("198503152010011002,Budi,Dinas,TRUE", "active", "expected true or false"),
            ("198503152010011002,Budi,Dinas", nil, "expected 4 columns, found 3"),
            ("198503152010011002,Budi,Dinas,true,extra", nil, "expected 4 columns, found 5"),
        ])
    func badRow(row: String, field: String?, reason: String) {
        let result = RosterImport.validate("nip,name,unit,active\n198503152010011009,Ani,Dinas,true\n\(row)\n")
        #expect(result.issues == [ImportIssue(line: 3, field: field, reason: reason)])
        #expect(result.rows.map(\.line) == [2])
    }

    @Test("PPPK numbers (digits 13-14 a code from 13 to 99) follow rules.allow_pppk")
    func pppk() {
        let text = "nip,name,unit,active\n198503152021211002,Pppk,Bappeda,true\n"
        #expect(RosterImport.validate(text, allowPPPK: true).rows.map(\.nip) == ["198503152021211002"])
        #expect(
            RosterImport.validate(text, allowPPPK: false).issues == [
                ImportIssue(
                    line: 2, field: "nip",
                    reason: "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)")
            ])
    }

    @Test("all problems of a file at once, in line order, duplicates pointing at the first line")
    func manyProblems() {
        let result = RosterImport.validate(
            """
            nip,name,unit,active
            198503152010011002,Budi,Dinas,true
            123,,Dinas,maybe
            198503152010011002,Budi again,Dinas,false
            198503152010011003,Ok,Dinas,true
            """)
        #expect(
            result.issues.map(\.description) == [
                "line 3, nip: expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)",
                "line 3, name: expected a name of 1 to 200 characters",
                "line 3, active: expected true or false",
                "line 4, nip: the same NIP is already on line 2",
            ])
        #expect(result.rows.map(\.line) == [2, 5])
    }

    @Test(
        "the header must be nip,name,unit,active",
        arguments: [
            ("", "line 1: the file is empty; expected the header nip,name,unit,active"),
            ("nip,name,unit\n", "line 1: expected the header nip,name,unit,active, found nip,name,unit"),
            (
                "198503152010011002,Budi,Dinas,true\n",
                "line 1: expected the header nip,name,unit,active, found a line of data (the header is missing)"
            ),
        ])
    func header(text: String, message: String) {
        #expect(RosterImport.validate(text).issues.map(\.description) == [message])
    }

    @Test("header case and blanks do not matter")
    func headerCase() {
        #expect(RosterImport.validate(" NIP , Name,UNIT,active\r\n").isValid)
    }
}
