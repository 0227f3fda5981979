import Foundation

/// A CSV record and the line of the file it starts on (1-based, the header is line 1).
struct CSVRecord: Sendable, Equatable {
    let line: Int
    let fields: [String]
}

/// A problem with one line of an import file. It never quotes a NIK: only the line, the column and
/// what was expected.
struct ImportIssue: Sendable, Equatable, CustomStringConvertible {
    let line: Int
    /// The column concerned, or nil for the whole line.
    let field: String?
    let reason: String

    var description: String {
        "line \(line)" + (field.map { ", \($0)" } ?? "") + ": " + reason
    }
}

/// RFC 4180 CSV: comma-separated, fields optionally in double quotes with `""` for a quote, lines
/// ending in LF or CRLF, a UTF-8 byte-order mark ignored. Blank lines are skipped.
enum CSVReader {
    static func records(_ text: String) -> (records: [CSVRecord], issues: [ImportIssue]) {
        var records: [CSVRecord] = []
        var issues: [ImportIssue] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var afterQuote = false
        var line = 1
        var recordLine = 1
        var recordIsBad = false

        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }

        func endRecord() {
            fields.append(field)
            let blank = fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted
            if !blank && !recordIsBad { records.append(CSVRecord(line: recordLine, fields: fields)) }
            fields = []
            field = ""
            fieldWasQuoted = false
            afterQuote = false
            recordIsBad = false
        }

        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if inQuotes {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                fields.append(field)
                field = ""
                fieldWasQuoted = false
                afterQuote = false
            case "\r" where pending == "\n":
                continue
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            case "\"" where field.isEmpty && !fieldWasQuoted:
                inQuotes = true
                fieldWasQuoted = true
            default:
                if afterQuote || scalar == "\"" {
                    if !recordIsBad {
                        issues.append(
                            ImportIssue(
                                line: line, field: nil,
                                reason:
                                    "a quote inside a field must be doubled, and a quoted field must end at a comma or the end of the line"
                            ))
                    }
                    recordIsBad = true
                }
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes {
            issues.append(
                ImportIssue(
                    line: recordLine, field: nil, reason: "a quoted field is not closed before the end of the file"))
            recordIsBad = true
        }
        if !(fields.isEmpty && field.isEmpty && !fieldWasQuoted) || recordIsBad {
            endRecord()
        }
        return (records, issues)
    }
}

/// The outcome of validating an import file: the good rows, and every bad one with its reason.
struct ImportValidation<Row: Sendable & Equatable>: Sendable, Equatable {
    var rows: [Row] = []
    var issues: [ImportIssue] = []
    var isValid: Bool { issues.isEmpty }
}

enum ImportFormat {
    /// Checks the header (case and surrounding blanks ignored) and splits off the data records.
    static func data(
        _ text: String, header expected: [String]
    ) -> (records: [CSVRecord], issues: [ImportIssue]) {
        let (records, issues) = CSVReader.records(text)
        guard let first = records.first else {
            return (
                [],
                issues + [
                    ImportIssue(
                        line: 1, field: nil,
                        reason: "the file is empty; expected the header \(expected.joined(separator: ","))")
                ]
            )
        }
        let header = first.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard header == expected else {
            // A first line holding numbers is data without a header: say so rather than echo it,
            // since it may be a NIK.
            let looksLikeData = header.contains { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
            let found =
                looksLikeData
                ? "a line of data (the header is missing)" : String(header.joined(separator: ",").prefix(80))
            return (
                [],
                issues + [
                    ImportIssue(
                        line: first.line, field: nil,
                        reason: "expected the header \(expected.joined(separator: ",")), found \(found)")
                ]
            )
        }
        var data: [CSVRecord] = []
        var all = issues
        for record in records.dropFirst() {
            if record.fields.count != expected.count {
                all.append(
                    ImportIssue(
                        line: record.line, field: nil,
                        reason: "expected \(expected.count) columns, found \(record.fields.count)"))
            } else {
                data.append(record)
            }
        }
        return (data, all)
    }
}
