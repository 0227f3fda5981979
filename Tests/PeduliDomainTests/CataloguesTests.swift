import Foundation
import Testing

@testable import PeduliDomain

/// The repository root, found from this file's path (Tests/PeduliDomainTests/CataloguesTests.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

struct CataloguesTests {
    @Test func embeddedCataloguesEqualConfigFiles() throws {
        let dir = repositoryRoot.appendingPathComponent("config")
        for (name, embedded) in [
            ("kecamatan.csv", EmbeddedCatalogues.kecamatan), ("kelurahan.csv", EmbeddedCatalogues.kelurahan),
            ("occupations.csv", EmbeddedCatalogues.occupations),
        ] {
            let file = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            #expect(file == embedded, "\(name) differs from the embedded copy: run scripts/embed-catalogues")
        }
    }

    @Test func loaderReadsConfigDirectory() throws {
        let loaded = try ProgrammeConfiguration.loadCatalogues(
            directory: repositoryRoot.appendingPathComponent("config"))
        #expect(loaded == Catalogues.builtIn)
        #expect(loaded.kecamatan.count == 16)
        #expect(loaded.kecamatan["337416"]?.name == "Tugu")
        #expect(loaded.kelurahan["3374011001"]?.kecamatanCode == "337401")
        #expect(loaded.occupations["P050"]?.eligible == true)
        #expect(loaded.occupations["P035"]?.eligible == false)
        // The city's examples of docs/rules.md map to eligible occupations.
        for code in ["P004", "P050", "P001", "P003", "P070", "P031", "P005"] {
            #expect(loaded.occupations[code]?.eligible == true, "\(code)")
        }
    }

    @Test func missingFile() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peduli-missing-\(UUID())")
        #expect(throws: ConfigurationError.self) { try ProgrammeConfiguration.loadCatalogues(directory: dir) }
        do { _ = try ProgrammeConfiguration.loadCatalogues(directory: dir) } catch {
            #expect(error.code == "missing_file")
            #expect(error.description.contains("kecamatan.csv"))
        }
    }

    static let kec = "code,name\n337401,Semarang Tengah\n337402,Semarang Utara\n"
    static let kel = "code,name,kecamatan\n3374011001,Miroto,337401\n"
    static let occ = "code,name,eligible\nP001,PETANI,yes\n"

    @Test(arguments: [
        (kec + "337401,Again\n", kel, occ, "duplicate_code", "kecamatan.csv", 4),
        (kec, kel + "3374011001,Again,337401\n", occ, "duplicate_code", "kelurahan.csv", 3),
        (kec, kel, occ + "P001,AGAIN,no\n", "duplicate_code", "occupations.csv", 3),
        (kec, kel + "3374991001,Nowhere,337499\n", occ, "unknown_kecamatan", "kelurahan.csv", 3),
        (kec, kel, occ + "P002,PETERNAK,maybe\n", "bad_row", "occupations.csv", 3),
        (kec + "33740,Short\n", kel, occ, "bad_row", "kecamatan.csv", 4),
        (kec, kel + "3374011002,Missing\n", occ, "bad_row", "kelurahan.csv", 3),
        (kec, kel, occ + "P003,\"A, B\",yes\n", "bad_row", "occupations.csv", 3),
        ("id,name\n", kel, occ, "bad_header", "kecamatan.csv", 1),
        ("", kel, occ, "empty", "kecamatan.csv", nil as Int?),
    ])
    func validation(kecamatan: String, kelurahan: String, occupations: String, code: String, file: String, line: Int?) {
        do {
            _ = try Catalogues(kecamatanCSV: kecamatan, kelurahanCSV: kelurahan, occupationsCSV: occupations)
            Issue.record("accepted invalid catalogue")
        } catch {
            #expect(error.code == code)
            #expect(error.file == file)
            #expect(error.line == line)
        }
    }

    @Test func acceptsCRLFAndBlankLines() throws {
        let c = try Catalogues(
            kecamatanCSV: "code,name\r\n337401,Semarang Tengah\r\n\r\n", kelurahanCSV: "code,name,kecamatan\n",
            occupationsCSV: Self.occ)
        #expect(c.kecamatan["337401"]?.name == "Semarang Tengah")
    }
}
