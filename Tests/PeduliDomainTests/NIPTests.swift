import Testing

@testable import PeduliDomain

struct NIPTests {
    @Test(arguments: [
        ("198503152010011002", NIP.Kind.pns),
        ("198503152010121999", .pns),  // month 12, serial 999
        ("198503152000012001", .pns),  // appointment year = birth + 15, sex 2
        ("198503152024241001", .pppk),  // digits 13–14 = 24
        ("198503152024131001", .pppk),  // 13
        ("198503152024991001", .pppk),  // 99
        ("200002292020011001", .pns),  // 29 Feb of a leap year
    ])
    func validWithPPPKAllowed(text: String, kind: NIP.Kind) {
        #expect(NIP.parse(text, allowPPPK: true)?.kind == kind)
    }

    @Test(arguments: ["198503152024241001", "198503152024131001"])
    func pppkRejectedWhenNotAllowed(text: String) {
        #expect(NIP.parse(text, allowPPPK: false) == nil)
        #expect(NIP.parse("198503152010011002", allowPPPK: false)?.kind == .pns)
    }

    @Test(arguments: [
        "198503152010001002",  // 00 in digits 13–14
        "198502302010011002",  // 30 Feb
        "198513152010011002",  // month 13 in birth date
        "198503151999011002",  // appointed before birth year + 15
        "198503152010013002",  // sex 3
        "198503152010010002",  // sex 0
        "198503152010011000",  // serial 000
        "19850315201001100",  // 17 digits
        "1985031520100110021",  // 19 digits
        "19850315201001100a",
        "190002292010011002",  // 29 Feb 1900
    ])
    func invalid(text: String) {
        #expect(NIP.parse(text, allowPPPK: true) == nil)
    }
}
