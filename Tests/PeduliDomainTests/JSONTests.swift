import PropertyBased
import Testing

@testable import PeduliDomain

struct JSONTests {
    @Test(arguments: [
        ("{\"a\":1}", JSONValue.object(JSONObject([("a", .int(1))]))),
        ("[1, -2, 0]", .array([.int(1), .int(-2), .int(0)])),
        ("16800.0", .number("16800.0")),
        ("1.68e4", .number("1.68e4")),
        ("-0.5E-3", .number("-0.5E-3")),
        ("99999999999999999999", .number("99999999999999999999")),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        ("\"a\\u00e9\\ud83d\\ude00\\n\"", .string("aé😀\n")),
        (" true ", .bool(true)),
        ("null", .null),
    ])
    func parsesValues(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(arguments: [
        ("", JSONParseError.Kind.empty),
        ("   ", .empty),
        ("{\"a\":1,\"a\":2}", .duplicateKey),
        ("{\"a\":1,}", .unexpectedCharacter),
        ("[1,]", .unexpectedCharacter),
        ("01", .trailingData),
        ("1.", .invalidNumber),
        ("-", .unexpectedEnd),
        ("1e", .invalidNumber),
        ("\"\\x\"", .invalidEscape),
        ("\"\\ud800\"", .loneSurrogate),
        ("\"\\udc00\"", .loneSurrogate),
        ("\"a\tb\"", .controlCharacterInString),
        ("\"abc", .unexpectedEnd),
        ("{} {}", .trailingData),
        ("tru", .unexpectedEnd),
        ("NaN", .unexpectedCharacter),
        ("{\"a\" 1}", .unexpectedCharacter),
    ])
    func rejectsMalformed(text: String, kind: JSONParseError.Kind) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
        do { _ = try JSONParser.parse(text) } catch { #expect(error.kind == kind) }
    }

    @Test(arguments: [
        [0xFF] as [UInt8], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xC3], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        let body = [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
        do {
            _ = try JSONParser.parse(body)
            Issue.record("accepted invalid UTF-8 \(bytes)")
        } catch {
            #expect(error.kind == .invalidUTF8)
        }
    }

    @Test func rejectsLeadingByteOrderMark() {
        do {
            _ = try JSONParser.parse([0xEF, 0xBB, 0xBF, 0x7B, 0x7D])
            Issue.record("accepted a BOM")
        } catch {
            #expect(error.kind == .unexpectedCharacter)
            #expect(error.offset == 0)
        }
    }

    @Test func acceptsValidMultibyteUTF8() throws {
        #expect(try JSONParser.parse(Array("\"Ñ中😀\"".utf8)) == .string("Ñ中😀"))
    }

    @Test(arguments: [64, 65, 10_000])
    func nestingDepthLimit(depth: Int) {
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let objText = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
        for t in [text, objText] {
            do {
                _ = try JSONParser.parse(t)
                #expect(depth <= JSONParser.maximumDepth)
            } catch {
                #expect(depth > JSONParser.maximumDepth)
                #expect(error.kind == .tooDeep)
            }
        }
    }

    @Test func canonicalEncodingSortsKeysAndEscapes() throws {
        let v = try JSONParser.parse(
            "{ \"b\": [1, 2.50, null], \"a\": \"q\\\"\\\\\\u0001\\n\", \"é\": true, \"Z\": {} }")
        #expect(v.canonicalString() == "{\"Z\":{},\"a\":\"q\\\"\\\\\\u0001\\n\",\"b\":[1,2.50,null],\"é\":true}")
        #expect((try? JSONParser.parse(v.canonicalJSON())) == v)
    }

    @Test func identityIgnoresOrderWhitespaceAndSchemaVersionOne() throws {
        let a = try JSONParser.parse("{\"x\":1,\"schema_version\":1,\"y\":{\"p\":2,\"q\":3}}")
        let b = try JSONParser.parse("{ \"y\": { \"q\": 3, \"p\": 2 }, \"x\": 1 }")
        let c = try JSONParser.parse("{\"x\":1,\"schema_version\":2,\"y\":{\"p\":2,\"q\":3}}")
        let d = try JSONParser.parse("{\"x\":1.0,\"y\":{\"p\":2,\"q\":3}}")
        #expect(a.commandIdentityBytes() == b.commandIdentityBytes())
        #expect(a.commandIdentityBytes() != c.commandIdentityBytes())
        #expect(a.commandIdentityBytes() != d.commandIdentityBytes())
        #expect(a == a.setting("schema_version", 1))
    }

    @Test(arguments: [
        ("{\"x\":1,\"phone\":null}", "{\"x\":1}", true),
        ("{\"w\":{\"a\":null,\"b\":2}}", "{\"w\":{\"b\":2}}", true),
        ("{\"w\":{\"a\":null}}", "{\"w\":{}}", true),
        ("{\"l\":[null,1]}", "{\"l\":[1]}", false),
        ("{\"x\":null}", "{\"x\":\"\"}", false),
        ("{\"schema_version\":null,\"x\":1}", "{\"schema_version\":1,\"x\":1}", true),
    ])
    func nullMembersCountAsAbsent(_ left: String, _ right: String, same: Bool) throws {
        let a = try JSONParser.parse(left), b = try JSONParser.parse(right)
        #expect((a.commandIdentityBytes() == b.commandIdentityBytes()) == same)
    }

    @Test func errorDescriptionEchoesNoInput() {
        do { _ = try JSONParser.parse("{\"nik\":\"3374015203800001\",}") } catch {
            #expect(!error.description.contains("3374"))
        }
    }

    @Test func stringsRoundTripThroughTheEncoder() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...0x10FFFF).array(of: 0...24)) { codes in
            let text = String(String.UnicodeScalarView(codes.compactMap { Unicode.Scalar(UInt32($0)) }))
            let value = JSONValue.array([.string(text), ["k\(text)": .string(text)]])
            #expect((try? JSONParser.parse(value.canonicalJSON())) == value)
        }
    }

    /// Random bytes never crash the parser; whatever it accepts re-encodes to the same value.
    @Test func randomBytesNeverCrash() async {
        let alphabet = Array("{}[]\",:0123456789-+.eEtrufalsn \\u\n".utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xA9, 0xFF]
        await propertyCheck(count: 2_000, input: Gen.element(of: alphabet).array(of: 0...30)) { bytes in
            if let v = try? JSONParser.parse(bytes.map { $0! }) {
                #expect((try? JSONParser.parse(v.canonicalJSON())) == v)
            }
        }
    }
}
