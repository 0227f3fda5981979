import Foundation

/// The rows of one statement, copied out of libpq's `PGresult` at once so the result is a
/// plain `Sendable` value that outlives the connection and the C memory.
public struct PostgresResult: Sendable, RandomAccessCollection {
    /// Column names in select-list order.
    public var columns: [String] { layout.names }
    /// Rows in the order the server sent them.
    public let rows: [PostgresRow]
    /// Rows inserted, updated, deleted, selected, ... as reported by the command tag (0 when none).
    public let affectedRows: Int
    /// The command tag, e.g. `INSERT 0 1`, `UPDATE 3`, `SELECT 2`.
    public let commandTag: String
    private let layout: PostgresRow.Layout

    public init(
        columns: [String], columnTypeOIDs: [UInt32]? = nil, rows: [[String?]], affectedRows: Int = 0,
        commandTag: String = ""
    ) {
        let layout = PostgresRow.Layout(
            names: columns, typeOIDs: columnTypeOIDs ?? Array(repeating: 0, count: columns.count))
        self.layout = layout
        self.rows = rows.map { PostgresRow(layout: layout, values: $0) }
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    public var startIndex: Int { rows.startIndex }
    public var endIndex: Int { rows.endIndex }
    public subscript(position: Int) -> PostgresRow { rows[position] }
}

/// One row. Values are PostgreSQL's text output; the typed accessors parse them and throw a
/// ``PostgresError`` (code `decoding`) naming the column and the wanted type, never the value.
///
/// The non-optional accessors (`string`, `int`, ...) throw when the value is NULL; for nullable
/// columns use `decode(Int?.self, "column")` or check `isNull` first.
public struct PostgresRow: Sendable {
    final class Layout: Sendable {
        let names: [String]
        let typeOIDs: [UInt32]
        let indexByName: [String: Int]

        init(names: [String], typeOIDs: [UInt32]) {
            self.names = names
            self.typeOIDs = typeOIDs
            var index: [String: Int] = [:]
            for (i, name) in names.enumerated() where index[name] == nil { index[name] = i }
            self.indexByName = index
        }
    }

    let layout: Layout
    /// Raw text values; nil is SQL NULL.
    public let values: [String?]

    /// Raw text of a column; nil when NULL or when there is no such column.
    public subscript(column: String) -> String? {
        guard let index = layout.indexByName[column], index < values.count else { return nil }
        return values[index]
    }

    /// Raw text by position; nil when NULL or out of range.
    public subscript(index: Int) -> String? {
        values.indices.contains(index) ? values[index] : nil
    }

    /// - Throws: when there is no such column.
    public func isNull(_ column: String) throws -> Bool {
        try value(column) == nil
    }

    public func decode<T: PostgresDecodable>(_ type: T.Type, _ column: String) throws -> T {
        let text = try value(column)
        guard let decoded = T.decodePostgres(text) else {
            let what = text == nil ? "is NULL" : "is not a valid \(T.postgresTypeName)"
            throw PostgresError.decoding("column \"\(column)\" \(what) (wanted \(T.self))")
        }
        return decoded
    }

    public func string(_ column: String) throws -> String { try decode(String.self, column) }
    public func int(_ column: String) throws -> Int { try decode(Int.self, column) }
    public func int64(_ column: String) throws -> Int64 { try decode(Int64.self, column) }
    public func int32(_ column: String) throws -> Int32 { try decode(Int32.self, column) }
    public func double(_ column: String) throws -> Double { try decode(Double.self, column) }
    public func bool(_ column: String) throws -> Bool { try decode(Bool.self, column) }
    /// A `date` column.
    public func date(_ column: String) throws -> PostgresDate { try decode(PostgresDate.self, column) }
    /// A `timestamptz` (or `timestamp`, read as UTC) column, to the microsecond.
    public func timestamp(_ column: String) throws -> Date { try decode(Date.self, column) }
    public func uuid(_ column: String) throws -> UUID { try decode(UUID.self, column) }
    public func bytes(_ column: String) throws -> [UInt8] { try decode([UInt8].self, column) }

    private func value(_ column: String) throws -> String? {
        guard let index = layout.indexByName[column], index < values.count else {
            throw PostgresError.decoding(
                "no column \"\(column)\" in the result (columns: \(layout.names.joined(separator: ", ")))")
        }
        return values[index]
    }
}

/// A type a text value can be read into. `Optional` conforms when its wrapped type does, which
/// makes NULL a value (`nil`) instead of an error.
public protocol PostgresDecodable {
    /// Nil when the text does not parse (or is NULL, for non-optional types).
    static func decodePostgres(_ text: String?) -> Self?
    /// Used in decoding error messages.
    static var postgresTypeName: String { get }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> Wrapped?? {
        guard let text else { return .some(nil) }
        return Wrapped.decodePostgres(text).map { .some($0) }
    }
    public static var postgresTypeName: String { Wrapped.postgresTypeName }
}

extension String: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> String? { text }
    public static var postgresTypeName: String { "text" }
}

extension Int: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> Int? { text.flatMap { Int($0) } }
    public static var postgresTypeName: String { "integer" }
}

extension Int64: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> Int64? { text.flatMap { Int64($0) } }
    public static var postgresTypeName: String { "bigint" }
}

extension Int32: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> Int32? { text.flatMap { Int32($0) } }
    public static var postgresTypeName: String { "integer" }
}

extension Double: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> Double? { text.flatMap { PostgresText.decodeDouble($0) } }
    public static var postgresTypeName: String { "double precision" }
}

extension Bool: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> Bool? { text.flatMap { PostgresText.decodeBool($0) } }
    public static var postgresTypeName: String { "boolean" }
}

extension PostgresDate: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> PostgresDate? { text.flatMap { PostgresDate($0) } }
    public static var postgresTypeName: String { "date" }
}

extension Date: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> Date? { text.flatMap { PostgresText.decodeTimestamp($0) } }
    public static var postgresTypeName: String { "timestamp" }
}

extension UUID: PostgresDecodable {
    public static func decodePostgres(_ text: String?) -> UUID? { text.flatMap { UUID(uuidString: $0) } }
    public static var postgresTypeName: String { "uuid" }
}

extension Array: PostgresDecodable where Element == UInt8 {
    public static func decodePostgres(_ text: String?) -> [UInt8]? { text.flatMap { PostgresText.decodeBytea($0) } }
    public static var postgresTypeName: String { "bytea" }
}
