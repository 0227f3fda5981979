import PropertyBased
import Testing

@testable import PeduliDomain

struct NIKTests {
    let ref = date("2026-11-20")

    @Test(arguments: [
        ("3374015203800001", "1980-03-12", true),
        ("3374014103800001", "1980-03-01", true),  // female day 41
        ("3374017103800001", "1980-03-31", true),  // female day 71
        ("3374013103800001", "1980-03-31", false),  // male day 31
        ("3374010101800001", "1980-01-01", false),
        ("3374011212809999", "1980-12-12", false),  // serial 9999
        ("1100011212800001", "1980-12-12", false),  // province 11
        ("9700011212800001", "1980-12-12", false),  // province 97
    ])
    func parsesValid(text: String, birth: String, female: Bool) throws {
        let nik = try #require(NIK.parse(text, birthDate: date(birth), reference: ref))
        #expect(nik.birthDate == date(birth))
        #expect(nik.isFemale == female)
        #expect(nik.digits == text)
    }

    @Test(arguments: [
        "3374014003800001",  // day 40
        "3374017203800001",  // day 72
        "3374010003800001",  // day 00
        "3374013203800001",  // day 32
        "3374011200800001",  // month 00
        "3374011213800001",  // month 13
        "3374011203800000",  // serial 0000
        "3374017102800001",  // 31 February (female 71)
        "3374013104800001",  // 31 April
        "1000011203800001",  // province 10
        "2000011203800001",  // province 20
        "9800011203800001",  // province 98
        "337401120380000",  // 15 digits
        "33740112038000011",  // 17 digits
        "33740112038O0001",  // letter O
        "٣٣٧٤٠١١٢٠٣٨٠٠٠٠١",  // Arabic-Indic digits
    ])
    func rejectsInvalid(text: String) {
        #expect(NIK.parse(text, birthDate: date("1980-03-12"), reference: ref) == nil)
    }

    @Test func centuryFollowsBirthDate() {
        // 29 Feb 00 is real in 2000, not in 1900.
        #expect(
            NIK.parse("3374012902000001", birthDate: date("2000-02-29"), reference: ref)?.birthDate
                == date("2000-02-29"))
        #expect(NIK.parse("3374012902000001", birthDate: date("1900-03-01"), reference: ref) == nil)
        #expect(NIK.parse("3374016902000001", birthDate: nil, reference: ref)?.birthDate == date("2000-02-29"))
    }

    @Test(arguments: [("26", 2026), ("27", 1927), ("00", 2000), ("99", 1999), ("30", 1930)])
    func centuryWithoutBirthDateMakesAge0To99(yy: String, year: Int) {
        let nik = NIK.parse("337401150" + "1" + yy + "0001", birthDate: nil, reference: ref)
        #expect(nik?.birthDate.year == year)
    }

    @Test func maskAndRedaction() throws {
        let nik = try #require(NIK.parse("3374015203800001", birthDate: date("1980-03-12"), reference: ref))
        #expect(nik.masked == "3374********0001")
        #expect("\(nik)" == "3374********0001")
        #expect(!String(reflecting: nik).contains("15203800"))
        #expect(!"\([nik])".contains("15203800"))
    }

    @Test func consistency() throws {
        let nik = try #require(NIK.parse("3374015203800001", birthDate: date("1980-03-12"), reference: ref))
        #expect(NIKConsistency.mismatches(nik: nik, birthDate: date("1980-03-12"), gender: .female).isEmpty)
        #expect(
            NIKConsistency.mismatches(nik: nik, birthDate: date("1980-03-13"), gender: .male) == [
                .nikBirthDateMismatch, .nikGenderMismatch,
            ])
        #expect(NIKConsistency.mismatches(nik: nik, birthDate: nil, gender: nil).isEmpty)
    }

    @Test func builderParserRoundTrip() async {
        let provinces = NIK.provinceCodes.sorted()
        await propertyCheck(
            count: 500,
            input: Gen.element(of: provinces), Gen.int(in: 0...9999), Gen.int(in: -36_000...20_000),
            Gen.bool, Gen.int(in: 1...9999)
        ) { province, region, dayOffset, female, serial in
            let birth = JakartaDate(daysSinceEpoch: Int64(dayOffset))
            let text = NIK.build(province: province!, region: region, birthDate: birth, female: female, serial: serial)
            let nik = NIK.parse(text, birthDate: birth, reference: date("2026-11-20"))
            #expect(nik?.birthDate == birth)
            #expect(nik?.isFemale == female)
            #expect(nik?.serial == serial)
            #expect(nik?.masked == String(text.prefix(4)) + "********" + String(text.suffix(4)))
        }
    }
}
