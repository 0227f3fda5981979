import Foundation
import PeduliDomain
import PostgresClient

/// Column decoding the store and the scheduler share.
extension PostgresRow {
    /// A `date` column holding the first day of a month (`paid_through`), or nil for NULL.
    func yearMonth(_ column: String) throws -> YearMonth? {
        if try isNull(column) { return nil }
        let date = try date(column)
        return YearMonth(year: date.year, month: date.month)
    }

    /// A `date` column as a Jakarta calendar date.
    func jakartaDate(_ column: String) throws -> JakartaDate {
        let date = try date(column)
        return JakartaDate(year: date.year, month: date.month, clampingDay: date.day)
    }

    func optionalString(_ column: String) throws -> String? {
        try isNull(column) ? nil : string(column)
    }

    func optionalBytes(_ column: String) throws -> [UInt8]? {
        try isNull(column) ? nil : bytes(column)
    }
}
