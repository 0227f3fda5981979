import CRabbitMQ
import Testing

@testable import AMQPClient

/// Tables go Swift -> C (`CArena`) -> AMQP wire bytes (librabbitmq's encoder) -> C (its decoder)
/// -> Swift, so both our C representation and our reading of it are checked against the library.
@Suite struct CBridgeTests {
    static let limits: AMQPTable = [
        "bool-t": .bool(true), "bool-f": .bool(false),
        "i8-min": .int8(.min), "i8-max": .int8(.max),
        "i16-min": .int16(.min), "i16-max": .int16(.max),
        "i32-min": .int32(.min), "i32-max": .int32(.max),
        "i64-min": .int64(.min), "i64-max": .int64(.max),
        "u8-max": .uint8(.max), "u16-max": .uint16(.max), "u32-max": .uint32(.max),
        "float": .float(-1.5), "double": .double(.pi), "double-inf": .double(-.infinity),
        "decimal": .decimal(scale: 2, value: 16_800),
        "ts": .timestamp(1_764_000_000),
        "void": .void,
    ]

    static let cases: [AMQPTable] = [
        [:],
        limits,
        ["unicode": .string("Semarang — ꦱꦼꦩꦫꦁ 😀 ñ"), "empty": .string(""), "ключ-юникод": .int32(1)],
        ["bytes": .bytes([0, 255, 1, 254]), "empty-bytes": .bytes([])],
        [
            "nested": .table(["inner": .table(["deep": .array([.int32(1), .string("x"), .table(["k": .void])])])]),
            "empty-array": .array([]), "empty-table": .table([:]),
        ],
        // order is preserved, not sorted
        ["z": .int8(1), "a": .int8(2), "m": .int8(3)],
    ]

    @Test(arguments: cases)
    func roundTripsThroughLibrabbitmq(_ table: AMQPTable) throws {
        let wire = try AMQPWireCodec.encode(table)
        #expect(try AMQPWireCodec.decode(wire) == table)
    }

    @Test func invalidUTF8LongStringKeepsItsType() throws {
        // Build an 'S' field with invalid UTF-8 by hand: table length, key, type, length, bytes.
        let key = Array("k".utf8)
        let payload: [UInt8] = [0xC3, 0x28]
        var body: [UInt8] = [UInt8(key.count)] + key + [UInt8(ascii: "S"), 0, 0, 0, UInt8(payload.count)] + payload
        body = [0, 0, 0, UInt8(body.count)] + body
        let table = try AMQPWireCodec.decode(body)
        #expect(table["k"] == .stringBytes(payload))
        #expect(try AMQPWireCodec.encode(table) == body)
    }

    @Test func propertiesRoundTripThroughTheCStruct() {
        let properties = AMQPProperties(
            contentType: "application/json", contentEncoding: "utf-8", headers: ["a": .int64(.min), "b": .string("é")],
            deliveryMode: 2, priority: 9, correlationId: "c", replyTo: "r", expiration: "60000", messageId: "m-1",
            timestamp: .max, type: "t", userId: "u", appId: "app", clusterId: "")
        let arena = CArena()
        let c = arena.properties(properties)
        #expect(CDecode.properties(c) == properties)
        #expect(CDecode.properties(arena.properties(AMQPProperties())) == AMQPProperties())
        withExtendedLifetime(arena) {}
    }

    @Test func tableSubscriptReplacesInPlace() {
        var t: AMQPTable = ["a": .int8(1), "b": .int8(2)]
        t["a"] = .string("x")
        t["c"] = .void
        t["b"] = nil
        #expect(t.keys == ["a", "c"])
        #expect(t["a"]?.stringValue == "x")
        #expect(AMQPFieldValue.uint32(7).int64Value == 7)
    }

    /// Headers `depth` levels deep: the headers table is level 1, each table or array inside adds one.
    static func nested(_ depth: Int) -> AMQPTable {
        var value = AMQPFieldValue.int8(1)
        for level in 0..<max(0, depth - 1) { value = level % 2 == 0 ? .table(["t": value]) : .array([value]) }
        return ["h": value]
    }

    /// What a delivery keeps of its headers (docs/contract.md limits): depth counts tables and arrays, the headers
    /// table being level 1; entries count at every level; bytes are the encoded table's.
    @Test(
        arguments: [
            (nested(16), nil),
            (nested(17), "header tables nested deeper than 16 levels"),
            (nested(100), "header tables nested deeper than 16 levels"),
            (AMQPTable((0..<256).map { .init(key: "k\($0)", value: .void) }), nil),
            (AMQPTable((0..<257).map { .init(key: "k\($0)", value: .void) }), "more than 256 header entries"),
            (["a": .array((0..<256).map { _ in .void })], "more than 256 header entries"),
            (["s": .string(String(repeating: "x", count: 16_384 - 11))], nil),
            (["s": .string(String(repeating: "x", count: 16_384 - 10))], "headers of 16385 bytes, more than 16384"),
        ] as [(AMQPTable, String?)])
    func headerLimits(_ headers: AMQPTable, _ dropped: String?) {
        let arena = CArena()
        let (properties, why) = CDecode.properties(
            arena.properties(AMQPProperties(headers: headers, messageId: "m")), limits: .contract)
        withExtendedLifetime(arena) {}
        #expect(why == dropped)
        #expect(properties.messageId == "m")
        #expect(properties.headers == (dropped == nil ? headers : nil))
    }

    /// The size the publish check computes is the size librabbitmq encodes.
    @Test(arguments: cases + [nested(16), ["s": .stringBytes([0xFF]), "x": .bytes([1, 2])]])
    func wireSizeMatchesTheEncoder(_ table: AMQPTable) throws {
        #expect(try AMQPWireCodec.encode(table).count == AMQPWireSize.table(table))
    }

    @Test func shortStringsOver255BytesAreUnencodable() {
        #expect(AMQPWireSize.properties(AMQPProperties(messageId: String(repeating: "m", count: 255))) == 2 + 256)
        #expect(AMQPWireSize.properties(AMQPProperties(messageId: String(repeating: "m", count: 256))) == nil)
    }
}
