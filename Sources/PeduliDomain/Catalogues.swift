import Foundation

/// A kecamatan of the programme area (data/kecamatan.csv).
public struct Kecamatan: Sendable, Hashable {
    public let code: String
    public let name: String
}

/// A kelurahan and the kecamatan it lies in (data/kelurahan.csv).
public struct Kelurahan: Sendable, Hashable {
    public let code: String
    public let name: String
    public let kecamatanCode: String
}

/// An entry of BPJS TK's BPU occupation catalogue (data/occupations.csv).
public struct Occupation: Sendable, Hashable {
    public let code: String
    public let name: String
    /// Column `eligible`: whether the programme funds this occupation.
    public let eligible: Bool
}

/// The three catalogues the registration rules read. Built from CSV text so that the same
/// validation applies to the embedded copies and to files an operator supplies.
public struct Catalogues: Sendable, Equatable {
    public let kecamatan: [String: Kecamatan]
    public let kelurahan: [String: Kelurahan]
    public let occupations: [String: Occupation]

    public static let fileNames = (
        kecamatan: "kecamatan.csv", kelurahan: "kelurahan.csv", occupations: "occupations.csv"
    )

    /// The catalogues compiled into the binary (generated from config/ by scripts/embed-catalogues).
    public static let builtIn: Catalogues = {
        do {
            return try Catalogues(
                kecamatanCSV: EmbeddedCatalogues.kecamatan,
                kelurahanCSV: EmbeddedCatalogues.kelurahan,
                occupationsCSV: EmbeddedCatalogues.occupations)
        } catch {
            fatalError("embedded catalogues are invalid (run scripts/embed-catalogues): \(error)")
        }
    }()

    public init(kecamatanCSV: String, kelurahanCSV: String, occupationsCSV: String) throws(ConfigurationError) {
        var kec: [String: Kecamatan] = [:]
        for row in try Self.rows(kecamatanCSV, file: Self.fileNames.kecamatan, header: ["code", "name"]) {
            let (code, name) = (row.fields[0], row.fields[1])
            guard code.count == 6, code.allSatisfy(\.isASCIIDigit) else {
                throw ConfigurationError(
                    code: "bad_row", file: Self.fileNames.kecamatan, line: row.line,
                    detail: "code must be 6 digits")
            }
            guard kec[code] == nil else {
                throw ConfigurationError(
                    code: "duplicate_code", file: Self.fileNames.kecamatan, line: row.line,
                    detail: "code \(code) appears twice")
            }
            kec[code] = Kecamatan(code: code, name: name)
        }
        var kel: [String: Kelurahan] = [:]
        for row in try Self.rows(kelurahanCSV, file: Self.fileNames.kelurahan, header: ["code", "name", "kecamatan"]) {
            let (code, name, parent) = (row.fields[0], row.fields[1], row.fields[2])
            guard code.count == 10, code.allSatisfy(\.isASCIIDigit) else {
                throw ConfigurationError(
                    code: "bad_row", file: Self.fileNames.kelurahan, line: row.line,
                    detail: "code must be 10 digits")
            }
            guard kel[code] == nil else {
                throw ConfigurationError(
                    code: "duplicate_code", file: Self.fileNames.kelurahan, line: row.line,
                    detail: "code \(code) appears twice")
            }
            guard kec[parent] != nil else {
                throw ConfigurationError(
                    code: "unknown_kecamatan", file: Self.fileNames.kelurahan, line: row.line,
                    detail:
                        "kelurahan \(code) points at kecamatan \(parent), which is not in \(Self.fileNames.kecamatan)")
            }
            kel[code] = Kelurahan(code: code, name: name, kecamatanCode: parent)
        }
        var occ: [String: Occupation] = [:]
        for row in try Self.rows(
            occupationsCSV, file: Self.fileNames.occupations, header: ["code", "name", "eligible"])
        {
            let (code, name, eligible) = (row.fields[0], row.fields[1], row.fields[2])
            guard !code.isEmpty else {
                throw ConfigurationError(
                    code: "bad_row", file: Self.fileNames.occupations, line: row.line,
                    detail: "empty code")
            }
            guard eligible == "yes" || eligible == "no" else {
                throw ConfigurationError(
                    code: "bad_row", file: Self.fileNames.occupations, line: row.line,
                    detail: "eligible must be yes or no")
            }
            guard occ[code] == nil else {
                throw ConfigurationError(
                    code: "duplicate_code", file: Self.fileNames.occupations, line: row.line,
                    detail: "code \(code) appears twice")
            }
            occ[code] = Occupation(code: code, name: name, eligible: eligible == "yes")
        }
        self.kecamatan = kec
        self.kelurahan = kel
        self.occupations = occ
    }

    struct Row { let line: Int; let fields: [String] }

    /// Plain comma-separated rows (no quoting: the catalogues need none, so a quote is an error
    /// rather than a silently different parse). Blank lines are skipped; CRLF is accepted.
    static func rows(_ text: String, file: String, header: [String]) throws(ConfigurationError) -> [Row] {
        // Split on bytes: in Swift "\r\n" is one Character and would not split on "\n".
        var lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first else {
            throw ConfigurationError(code: "empty", file: file, detail: "file is empty")
        }
        let got = first.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard got == header else {
            throw ConfigurationError(
                code: "bad_header", file: file, line: 1,
                detail: "header must be \(header.joined(separator: ","))")
        }
        var rows: [Row] = []
        for (i, line) in lines.enumerated().dropFirst() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard !line.contains("\"") else {
                throw ConfigurationError(
                    code: "bad_row", file: file, line: i + 1, detail: "quoted fields are not supported")
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count == header.count else {
                throw ConfigurationError(
                    code: "bad_row", file: file, line: i + 1,
                    detail: "expected \(header.count) fields, found \(fields.count)")
            }
            guard fields.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigurationError(code: "bad_row", file: file, line: i + 1, detail: "empty field")
            }
            rows.append(Row(line: i + 1, fields: fields))
        }
        return rows
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
