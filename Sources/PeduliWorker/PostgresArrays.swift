import PostgresClient

/// PostgreSQL array literals for `= ANY($1::text[])` and `unnest(...)` parameters, so a whole batch travels
/// in one parameter instead of one statement per row. Values still travel apart from the SQL text.
enum PostgresArray {
    static func text(_ values: [String?]) -> String {
        var out = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            guard let value else {
                out += "NULL"
                continue
            }
            out += "\""
            for ch in value.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    static func text(_ values: [String]) -> String { text(values.map { Optional($0) }) }

    static func int64(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }

    static func int(_ values: [Int?]) -> String {
        "{" + values.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"
    }

    static func bool(_ values: [Bool]) -> String {
        "{" + values.map { $0 ? "t" : "f" }.joined(separator: ",") + "}"
    }

    /// Arrays of text arrays must be rectangular in PostgreSQL; reason codes are joined with commas instead
    /// and split in SQL.
    static func joined(_ lists: [[String]]) -> String {
        text(lists.map { $0.joined(separator: ",") })
    }

    static func hex(_ bytes: [UInt8]) -> String { PropertiesCodec.hex(bytes) }
}
