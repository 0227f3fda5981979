internal import PeduliBase
import PostgresClient

/// PostgreSQL array literals for `= ANY($1::text[])` and `unnest(...)` parameters, so a whole batch travels
/// in one parameter instead of one statement per row. Values still travel apart from the SQL text.
enum PostgresArray {
    /// Built byte by byte: this runs for every column of every batch while the transaction is open.
    static func text(_ values: [String?]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard var value else {
                out.append(contentsOf: [0x4E, 0x55, 0x4C, 0x4C])  // NULL
                continue
            }
            out.append(UInt8(ascii: "\""))
            value.withUTF8 { bytes in
                // Copy the runs between quotes and backslashes whole (event bodies are JSON, full of quotes,
                // and a byte-at-a-time append was most of this function's cost).
                var runStart = 0
                for i in bytes.indices where bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "\\") {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                    out.append(UInt8(ascii: "\\"))
                    runStart = i
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
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

    static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }
}
