import Foundation
import PropertyBased
import Testing

@testable import PeduliDomain

struct RegistrationTests {
    func decide(
        _ body: JSONValue, facts: RegistrationFacts = activeFacts, config: ProgrammeConfiguration = config,
        now: Date = registrationNow
    ) -> RegistrationDecision {
        let draft = RegistrationDraft.decode(body, config: config, now: now)
        return decideRegistration(draft, facts: facts, config: config, acceptedAt: now)
    }

    func errors(_ decision: RegistrationDecision) -> [String] {
        if case .rejected(let e) = decision { return codes(e) }
        return []
    }

    @Test func acceptsTheContractExample() throws {
        guard case .accepted(let a) = decide(registration()) else {
            Issue.record("rejected: \(decide(registration()))")
            return
        }
        #expect(a.registrationID.canonicalString == "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10")
        #expect(a.workerName == "Siti Aminah")
        #expect(a.phone?.e164 == "+6281234567890")
        #expect(a.nik.masked == "3374********0001")
        #expect(a.birthDate == date("1980-03-12"))
        #expect(a.gender == .female)
        #expect(a.occupation.code == "P050")
        #expect(a.kecamatan.name == "Semarang Tengah")
        #expect(a.kelurahan?.name == "Miroto")
        #expect(a.monthlyContribution == 16_800)
        #expect(a.firstDueDate == date("2026-12-04"))
        #expect(a.warnings.isEmpty)
        #expect(a.address?.text == "Jl. Pemuda 1")
    }

    @Test(
        arguments: [
            ([("schema_version", nil)], [String]()),
            ([("schema_version", 2)], ["schema_version:unsupported_schema_version"]),
            ([("schema_version", "1")], ["schema_version:invalid_type"]),
            ([("schema_version", .number("1.0"))], ["schema_version:invalid_type"]),
            ([("registration_id", "3f0e1c3a8d4b4d7e9d8a2f6c1b7e9a10")], ["registration_id:invalid_format"]),
            ([("registration_id", "{3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10}")], ["registration_id:invalid_format"]),
            ([("registration_id", "3f0e1c3a8-d4b-4d7e-9d8a-2f6c1b7e9a10")], ["registration_id:invalid_format"]),
            ([("registration_id", "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a1g")], ["registration_id:invalid_format"]),
            ([("registration_id", " 3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a1")], ["registration_id:invalid_format"]),
            ([("registration_id", nil)], ["registration_id:missing_field"]),
            ([("registration_id", .null)], ["registration_id:missing_field"]),
            ([("registration_id", 5)], ["registration_id:invalid_type"]),
            ([("submitted_at", "2026-11-20 09:15:00")], ["submitted_at:invalid_format"]),
            ([("submitted_at", "2026-11-20T09:21:00+07:00")], []),
            ([("submitted_at", "2026-11-20T09:21:01+07:00")], ["submitted_at:in_future"]),
            ([("sponsor.nip", "123")], ["sponsor.nip:invalid_nip"]),
            ([("sponsor.nip", nil)], ["sponsor.nip:missing_field"]),
            ([("sponsor", "Budi")], ["sponsor:invalid_type"]),
            ([("sponsor", nil)], ["sponsor:missing_field"]),
            ([("sponsor.name", 5)], ["sponsor.name:invalid_type"]),
            ([("sponsor.name", .null), ("sponsor.unit", nil)], []),
            ([("worker.nik", "3374014003800001")], ["worker.nik:invalid_nik"]),
            ([("worker.nik", 3374015203800001)], ["worker.nik:invalid_type"]),
            ([("worker.name", "Siti2")], ["worker.name:invalid_name"]),
            ([("worker.name", "   ")], ["worker.name:invalid_name"]),
            ([("worker.birth_date", "1980-02-30")], ["worker.birth_date:invalid_date"]),
            ([("worker.birth_date", "2026-11-21")], ["worker.birth_date:invalid_date"]),
            ([("worker.birth_date", "12-03-1980")], ["worker.birth_date:invalid_date"]),
            ([("worker.gender", "F")], ["worker.gender:invalid_value"]),
            ([("worker.gender", "L")], ["worker.nik:nik_gender_mismatch"]),
            ([("worker.birth_date", "1980-03-13")], ["worker.nik:nik_birth_date_mismatch"]),
            ([("worker.phone", "0712345678")], ["worker.phone:invalid_phone"]),
            ([("worker.phone", .null)], []),
            ([("worker.phone", 812_345_678)], ["worker.phone:invalid_type"]),
            ([("worker.occupation", "P999X")], ["worker.occupation:unknown_occupation"]),
            ([("worker.occupation", "P035")], ["worker.occupation:ineligible_occupation"]),
            ([("worker.work_status", "employee")], ["worker.work_status:excluded_work_status"]),
            ([("worker.work_status", "retired")], ["worker.work_status:excluded_work_status"]),
            ([("worker.work_status", "boss")], ["worker.work_status:invalid_value"]),
            ([("worker.work_status", "casual")], []),
            ([("worker.actively_working", false)], ["worker.actively_working:not_actively_working"]),
            ([("worker.actively_working", "yes")], ["worker.actively_working:invalid_type"]),
            ([("worker.work_location.kecamatan", "337501")], ["worker.work_location.kecamatan:outside_programme_area"]),
            ([("worker.work_location.kecamatan", "337416"), ("worker.work_location.kelurahan", "3374161001")], []),
            (
                [("worker.work_location.kecamatan", "337417"), ("worker.work_location.kelurahan", nil)],
                ["worker.work_location.kecamatan:outside_programme_area"]
            ),
            (
                [("worker.work_location.kecamatan", "337400"), ("worker.work_location.kelurahan", nil)],
                ["worker.work_location.kecamatan:outside_programme_area"]
            ),
            ([("worker.work_location.kecamatan", 337401)], ["worker.work_location.kecamatan:invalid_type"]),
            ([("worker.work_location.kelurahan", "3374021001")], ["worker.work_location.kelurahan:invalid_kelurahan"]),
            ([("worker.work_location.kelurahan", "9999999999")], ["worker.work_location.kelurahan:invalid_kelurahan"]),
            ([("worker.work_location.kelurahan", nil), ("worker.work_location.address", nil)], []),
            ([("worker.work_location", nil)], ["worker.work_location:missing_field"]),
            ([("worker.work_location", .array([]))], ["worker.work_location:invalid_type"]),
            ([("worker", "Siti")], ["worker:invalid_type"]),
            ([("worker", .null)], ["worker:missing_field"]),
            ([("worker.work_location.address", "Jl. Pemuda\u{0}1")], ["worker.work_location.address:invalid_address"]),
            ([("worker.work_location.address", "Jl.\nPemuda")], ["worker.work_location.address:invalid_address"]),
            ([("worker.work_location.address", "Jl. Pemuda\u{7F}")], ["worker.work_location.address:invalid_address"]),
            (
                [("worker.work_location.address", .string(String(repeating: "a", count: 201)))],
                ["worker.work_location.address:invalid_address"]
            ),
            ([("worker.work_location.address", .string("  " + String(repeating: "é", count: 200) + "  "))], []),
            ([("worker.work_location.address", 12)], ["worker.work_location.address:invalid_type"]),
            ([("sponsor.name", .string(String(repeating: "B", count: 101)))], ["sponsor.name:invalid_value"]),
            ([("sponsor.unit", "Dinas\tTenaga")], ["sponsor.unit:invalid_value"]),
            ([("sponsor.name", .string(String(repeating: "B", count: 100))), ("sponsor.unit", .null)], []),
            (
                [("sponsor.name", "x\u{1}"), ("worker.work_location.address", "y\u{1F}"), ("worker.name", "Siti2")],
                [
                    "sponsor.name:invalid_value", "worker.name:invalid_name",
                    "worker.work_location.address:invalid_address",
                ]
            ),
            ([("source", "friend")], ["source:invalid_value"]),
            ([("source", "verified_data")], []),
            ([("unknown_field", "ignored"), ("worker.extra", 1)], []),
        ] as [([(String, JSONValue?)], [String])])
    func fieldRules(changes: [(String, JSONValue?)], expected: [String]) {
        #expect(errors(decide(registration(changes))) == expected)
    }

    @Test func invalidKecamatanSkipsKelurahan() {
        let body = registration([
            ("worker.work_location.kecamatan", "337501"),
            ("worker.work_location.kelurahan", "3374021001"),
        ])
        #expect(errors(decide(body)) == ["worker.work_location.kecamatan:outside_programme_area"])
    }

    @Test func invalidBirthDateSkipsAgeAndConsistency() {
        let body = registration([("worker.birth_date", "1800-13-01"), ("worker.gender", "L")])
        // The gender check still runs: it reads only the NIK and the gender.
        #expect(errors(decide(body)) == ["worker.birth_date:invalid_date", "worker.nik:nik_gender_mismatch"])
    }

    @Test func invalidNIKSkipsConsistencyAndDatabaseChecks() {
        let body = registration([("worker.nik", "3374015203800000"), ("worker.gender", "L")])
        let facts = RegistrationFacts(sponsor: .active, coveredByOtherScheme: true, hasActiveRegistration: true)
        #expect(errors(decide(body, facts: facts)) == ["worker.nik:invalid_nik"])
    }

    /// Age boundaries on the Jakarta date of submitted_at (born 1961-05-20, female).
    @Test(arguments: [
        ("2026-05-19T23:59:00+07:00", [String]()),
        ("2026-05-19T16:59:00Z", []),
        ("2026-05-19T23:30:00Z", ["worker.birth_date:age_above_limit"]),  // already 20 May in Jakarta
        ("2026-05-20T00:00:00+07:00", ["worker.birth_date:age_above_limit"]),
    ])
    func ageAboveLimit(submittedAt: String, expected: [String]) {
        let body = registration([
            ("worker.birth_date", "1961-05-20"), ("worker.nik", "3374016005610001"),
            ("submitted_at", .string(submittedAt)),
        ])
        #expect(errors(decide(body, now: instant(submittedAt))) == expected)
    }

    @Test(arguments: [
        ("2008-11-21", "3374016111080001", ["worker.birth_date:age_below_minimum"]),
        ("2008-11-20", "3374016011080001", [String]()),
    ])
    func ageBelowMinimum(birth: String, nik: String, expected: [String]) {
        let body = registration([("worker.birth_date", .string(birth)), ("worker.nik", .string(nik))])
        #expect(errors(decide(body)) == expected)
    }

    @Test func fiveErrorsAtOnce() {
        let body = registration([
            ("registration_id", "nope"), ("sponsor.nip", "1985"), ("worker.phone", "12345"),
            ("worker.occupation", "X1"), ("source", "friend"),
        ])
        let found = errors(decide(body))
        #expect(
            found == [
                "registration_id:invalid_format", "sponsor.nip:invalid_nip", "worker.phone:invalid_phone",
                "worker.occupation:unknown_occupation", "source:invalid_value",
            ])
        if case .rejected(let v) = decide(body) {
            #expect(v.allSatisfy { !$0.message.isEmpty })
        }
    }

    @Test(arguments: [
        (RegistrationFacts(sponsor: nil), ["sponsor.nip:unknown_sponsor"]),
        (RegistrationFacts(sponsor: .inactive), ["sponsor.nip:inactive_sponsor"]),
        (RegistrationFacts(sponsor: .active, hasActiveRegistration: true), ["worker.nik:already_registered"]),
        (RegistrationFacts(sponsor: .active, coveredByOtherScheme: true), ["worker.nik:covered_by_other_scheme"]),
        (
            RegistrationFacts(sponsor: .inactive, coveredByOtherScheme: true, hasActiveRegistration: true),
            ["sponsor.nip:inactive_sponsor", "worker.nik:already_registered", "worker.nik:covered_by_other_scheme"]
        ),
    ])
    func databaseFacts(facts: RegistrationFacts, expected: [String]) {
        #expect(errors(decide(registration(), facts: facts)) == expected)
    }

    @Test func databaseChecksRunAlongsideFieldErrors() {
        let body = registration([("source", "friend")])
        #expect(
            errors(decide(body, facts: RegistrationFacts(sponsor: nil))) == [
                "source:invalid_value", "sponsor.nip:unknown_sponsor",
            ])
    }

    @Test func invalidNIPSkipsRoster() {
        #expect(
            errors(decide(registration([("sponsor.nip", "x")]), facts: RegistrationFacts(sponsor: nil))) == [
                "sponsor.nip:invalid_nip"
            ])
    }

    @Test func rosterNotEnforced() {
        var c = config
        c.enforceSponsorRoster = false
        #expect(errors(decide(registration(), facts: RegistrationFacts(sponsor: nil), config: c)) == [])
    }

    @Test func pppkSponsor() {
        let body = registration([("sponsor.nip", "198503152024241001")])
        #expect(errors(decide(body)) == [])
        var c = config
        c.allowPPPK = false
        #expect(errors(decide(body, config: c)) == ["sponsor.nip:invalid_nip"])
    }

    @Test func nikConsistencyWarnPolicy() {
        var c = config
        c.nikConsistency = .warn
        let body = registration([("worker.gender", "L"), ("worker.birth_date", "1980-03-13")])
        guard case .accepted(let a) = decide(body, config: c) else {
            Issue.record("expected acceptance under warn policy")
            return
        }
        #expect(a.warnings.map(\.code) == [.nikBirthDateMismatch, .nikGenderMismatch])
    }

    @Test func lookupKeysOnlyWhenValid() {
        let good = RegistrationDraft.decode(registration(), config: config, now: registrationNow)
        #expect(good.lookupSponsorNIP == "198503152010011002")
        #expect(good.lookupNIK?.digits == "3374015203800001")
        let bad = RegistrationDraft.decode(
            registration([("sponsor.nip", "1"), ("worker.nik", "1")]), config: config, now: registrationNow)
        #expect(bad.lookupSponsorNIP == nil)
        #expect(bad.lookupNIK == nil)
    }

    @Test func notAnObject() {
        let d = RegistrationDraft.decode(.array([]), config: config, now: registrationNow)
        #expect(d.errors.map(\.code) == [.invalidType])
    }

    @Test func firstDueDateCountsFromAcceptanceInJakarta() {
        let draft = RegistrationDraft.decode(registration(), config: config, now: registrationNow)
        // Committed at 23:30 UTC on the 20th = 21 November in Jakarta.
        guard
            case .accepted(let a) = decideRegistration(
                draft, facts: activeFacts, config: config,
                acceptedAt: instant("2026-11-20T23:30:00Z"))
        else {
            Issue.record("rejected")
            return
        }
        #expect(a.firstDueDate == date("2026-12-05"))
    }
}

struct RegistrationFuzzTests {
    static let paths = [
        "schema_version", "registration_id", "submitted_at", "sponsor", "sponsor.nip", "sponsor.name",
        "worker", "worker.nik", "worker.name", "worker.birth_date", "worker.gender", "worker.phone",
        "worker.occupation", "worker.work_status", "worker.actively_working", "worker.work_location",
        "worker.work_location.kecamatan", "worker.work_location.kelurahan", "source",
    ]
    static let values: [JSONValue?] = [
        nil, .null, 1, .number("1.5"), "", "x", true, false, .array([]), [:],
        "3374015203800001", "2026-11-20", "2026-11-20T09:15:00+07:00", "P", "L", 99999999999,
    ]

    /// Any mix of broken fields gives a decision, never a crash; a rejection always carries
    /// errors with a field and a message.
    @Test func randomDamageNeverCrashesAndIsReported() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 0..<Self.paths.count).array(of: 1...6),
            Gen.int(in: 0..<Self.values.count).array(of: 6)
        ) { pathIdx, valueIdx in
            var body = registration()
            for (i, p) in pathIdx.enumerated() { body = body.setting(Self.paths[p], Self.values[valueIdx[i]]) }
            let draft = RegistrationDraft.decode(body, config: config, now: registrationNow)
            switch decideRegistration(draft, facts: activeFacts, config: config, acceptedAt: registrationNow) {
            case .accepted(let a):
                #expect(draft.errors.isEmpty)
                #expect(a.monthlyContribution == 16_800)
            case .rejected(let errors):
                #expect(!errors.isEmpty)
                #expect(errors.allSatisfy { !$0.field.isEmpty && !$0.message.isEmpty })
            }
        }
    }
}
