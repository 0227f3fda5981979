import Foundation
import PeduliDomain

/// One row of the other-schemes file (`nik,scheme`).
struct CoveredRow: Sendable, Equatable {
    let line: Int
    let nik: String
    let scheme: String
}

/// Validates the list of NIKs already funded by another scheme (for example PIJAR SEMAR).
/// Issues never contain the NIK itself, only the line number.
/// A NIK is checked by the domain's rule (`NIK.parse`: province, embedded birth date, serial).
enum CoveredImport {
    static let header = ["nik", "scheme"]

    static func validate(
        _ text: String,
        today: JakartaDate = JakartaDate(Date())
    ) -> ImportValidation<CoveredRow> {
        let (records, issues) = ImportFormat.data(text, header: header)
        var result = ImportValidation<CoveredRow>(issues: issues)
        var firstLineOfNIK: [String: Int] = [:]
        for record in records {
            var bad = false
            func issue(_ field: String, _ reason: String) {
                result.issues.append(ImportIssue(line: record.line, field: field, reason: reason))
                bad = true
            }
            let nik = record.fields[0].trimmingCharacters(in: .whitespaces)
            let scheme = RosterImport.collapse(record.fields[1])
            if NIK.parse(nik, birthDate: nil, reference: today) == nil {
                issue("nik", "expected a valid 16-digit NIK (province code, date of birth, serial)")
            } else if let first = firstLineOfNIK[nik] {
                issue("nik", "the same NIK is already on line \(first)")
            } else {
                firstLineOfNIK[nik] = record.line
            }
            if scheme.isEmpty || scheme.count > 100 { issue("scheme", "expected a scheme name of 1 to 100 characters") }
            if !bad { result.rows.append(CoveredRow(line: record.line, nik: nik, scheme: scheme)) }
        }
        result.issues.sort { $0.line < $1.line }
        return result
    }
}
