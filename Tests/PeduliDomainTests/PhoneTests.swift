import Testing

@testable import PeduliDomain

struct PhoneTests {
    @Test(arguments: [
        ("0812345678", "+62812345678"),  // 9 digits after +62
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("0812345678901", "+62812345678901"),  // 12 digits after +62
    ])
    func normalises(text: String, expected: String) {
        #expect(PhoneNumber.normalise(text)?.e164 == expected)
    }

    @Test(arguments: [
        "08123456789012",  // 13 digits after +62
        "081234567",  // 8 digits
        "0712345678",  // not 8 after the prefix
        "812345678",  // no prefix
        "+6308123456789",
        "+62081234567890",
        "0812.3456.7890",
        "(0812)34567890",
        "0812345678a",
        "",
        "+62",
        "０８１２３４５６７８９",  // full-width digits
    ])
    func rejects(text: String) {
        #expect(PhoneNumber.normalise(text) == nil)
    }

    @Test func redacted() throws {
        let phone = try #require(PhoneNumber.normalise("081234567890"))
        #expect(!"\(phone)".contains("1234567890"))
        #expect(!String(reflecting: phone).contains("1234567890"))
        #expect(!"\(Address("Jl. Pemuda 1"))".contains("Pemuda"))
        #expect(!String(reflecting: Address("Jl. Pemuda 1")).contains("Pemuda"))
    }
}
