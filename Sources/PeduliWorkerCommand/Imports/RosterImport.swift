import Foundation
import PeduliDomain

/// One row of the ASN roster file (`nip,name,unit,active`).
struct RosterRow: Sendable, Equatable {
    let line: Int
    let nip: String
    let name: String
    let unit: String
    let active: Bool
}

/// Validates a roster file before anything is written, so that a bad file changes nothing and its
/// author gets every problem at once.
/// A NIP is checked by the domain's rule (`NIP.parse`: dates, PPPK codes when `rules.allow_pppk`).
enum RosterImport {
    static let header = ["nip", "name", "unit", "active"]

    static func validate(
        _ text: String,
        allowPPPK: Bool = true
    ) -> ImportValidation<RosterRow> {
        let (records, issues) = ImportFormat.data(text, header: header)
        var result = ImportValidation<RosterRow>(issues: issues)
        var firstLineOfNIP: [String: Int] = [:]
        for record in records {
            var bad = false
            func issue(_ field: String, _ reason: String) {
                result.issues.append(ImportIssue(line: record.line, field: field, reason: reason))
                bad = true
            }
            let nip = record.fields[0].trimmingCharacters(in: .whitespaces)
            let name = collapse(record.fields[1])
            let unit = collapse(record.fields[2])
            let activeText = record.fields[3].trimmingCharacters(in: .whitespaces)
            if NIP.parse(nip, allowPPPK: allowPPPK) == nil {
                issue("nip", "expected a valid 18-digit NIP (birth date, appointment month or PPPK code, sex, serial)")
            } else if let first = firstLineOfNIP[nip] {
                issue("nip", "the same NIP is already on line \(first)")
            } else {
                firstLineOfNIP[nip] = record.line
            }
            if name.isEmpty || name.count > 200 { issue("name", "expected a name of 1 to 200 characters") }
            if unit.isEmpty || unit.count > 200 { issue("unit", "expected a unit of 1 to 200 characters") }
            let active: Bool
            switch activeText {
            case "true": active = true
            case "false": active = false
            default:
                active = false
                issue("active", "expected true or false")
            }
            if !bad {
                result.rows.append(RosterRow(line: record.line, nip: nip, name: name, unit: unit, active: active))
            }
        }
        result.issues.sort { $0.line < $1.line }
        return result
    }

    /// Trims and collapses runs of white space, as names are compared that way.
    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
