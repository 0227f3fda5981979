import Foundation
import Testing

@testable import PeduliPrivacy

struct DataKeysTests {
    static let one = "1 " + Data(repeating: 7, count: 32).base64EncodedString()
    static let two = "2 " + Data(repeating: 9, count: 32).base64EncodedString()

    @Test func theLastLineEncrypts() throws {
        let keys = try DataKeys.parse("# keys\n\(Self.one)\n\n\(Self.two)\n", file: "k")
        #expect(keys.currentID == 2)
        #expect(keys.keys.count == 2)
        #expect(DataKeys.keyID(of: keys.seal("x", context: "c")) == 2)
    }

    static let badFiles: [(String, String)] = [
        ("", "holds no key"),
        ("0 " + Data(count: 32).base64EncodedString(), "positive integer id"),
        ("x " + Data(count: 32).base64EncodedString(), "positive integer id"),
        ("1 " + Data(count: 16).base64EncodedString(), "not 32 bytes"),
        ("1 not-base64!", "not 32 bytes"),
        ("\(one)\n\(one)", "appears twice"),
        ("1", "positive integer id"),
    ]

    @Test(arguments: badFiles)
    func badFilesAreRefusedWithoutTheirBytes(text: String, message: String) {
        #expect {
            try DataKeys.parse(text, file: "/etc/peduli-worker/data_keys")
        } throws: { error in
            let e = error as! DataKeyError
            return e.code == .badLine && e.description.contains(message)
                && e.description.contains("/etc/peduli-worker/data_keys") && !e.description.contains("BwcH")
        }
    }

    @Test func sealAndOpen() throws {
        let keys = DataKeys.forTesting()
        let sealed = keys.seal("3374015203800001", context: "registrations/abc/nik")
        #expect(!sealed.contains(subsequence: Array("3374015203800001".utf8)))
        #expect(try keys.openText(sealed, context: "registrations/abc/nik") == "3374015203800001")
        #expect(keys.seal("same", context: "c") != keys.seal("same", context: "c"), "a fresh nonce per value")
    }

    @Test func anotherPlaceOrATamperedByteDoesNotOpen() {
        let keys = DataKeys.forTesting()
        var sealed = keys.seal("Siti Aminah", context: "registrations/abc/worker_name")
        #expect(throws: DataKeyError.self) { try keys.open(sealed, context: "registrations/xyz/worker_name") }
        sealed[sealed.count - 1] ^= 1
        #expect {
            try keys.open(sealed, context: "registrations/abc/worker_name")
        } throws: { ($0 as! DataKeyError).code == .tampered }
        #expect(throws: DataKeyError.self) { try keys.open([1, 2, 3], context: "c") }
    }

    @Test func aValueUnderARetiredKeyIsAClearError() throws {
        let old = try DataKeys.parse(Self.one + "\n" + Self.two, file: "k")
        let sealed = old.seal("x", context: "c")
        let withoutTwo = try DataKeys.parse(Self.one, file: "k")
        #expect {
            try withoutTwo.open(sealed, context: "c")
        } throws: { ($0 as! DataKeyError).code == .unknownKey && "\($0)".contains("key 2") }
    }

    @Test func olderKeysStillOpenAfterANewOneIsAppended() throws {
        let before = try DataKeys.parse(Self.one, file: "k")
        let sealed = before.seal("x", context: "c")
        let after = try DataKeys.parse(Self.one + "\n" + Self.two, file: "k")
        #expect(try after.openText(sealed, context: "c") == "x")
    }

    @Test func theIndexHashSurvivesAppendingAKey() throws {
        let before = try DataKeys.parse(Self.one, file: "k")
        let after = try DataKeys.parse(Self.one + "\n" + Self.two, file: "k")
        #expect(before.nikHash("3374015203800001") == after.nikHash("3374015203800001"))
        #expect(before.nikHash("3374015203800001") != before.nikHash("3374015203800002"))
        #expect(before.nikHash("3374015203800001").count == 32)
        #expect(DataKeys.forTesting(seed: 2).nikHash("3374015203800001") != before.nikHash("3374015203800001"))
    }

    @Test func generatedLinesParseAndCountUp() throws {
        let first = DataKeys.generateLine(after: nil)
        #expect(first.hasPrefix("1 "))
        let keys = try DataKeys.parse(first, file: "k")
        let second = DataKeys.generateLine(after: keys)
        #expect(second.hasPrefix("2 "))
        #expect(try DataKeys.parse(first + "\n" + second, file: "k").currentID == 2)
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}
