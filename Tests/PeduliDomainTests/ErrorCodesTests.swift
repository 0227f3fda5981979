import Foundation
import Testing

@testable import PeduliDomain

struct ErrorCodesTests {
    /// Every code of docs/rules.md is a RuleCode, and no other.
    @Test func everyCodeOfTheRulesExists() throws {
        let expected: Set<String> = [
            "unsupported_schema_version", "invalid_format", "in_future", "invalid_nip", "unknown_sponsor",
            "inactive_sponsor",
            "invalid_nik", "invalid_name", "invalid_date", "invalid_value", "invalid_phone", "unknown_occupation",
            "ineligible_occupation", "not_actively_working", "outside_programme_area", "invalid_kelurahan",
            "invalid_address", "missing_field",
            "invalid_type", "excluded_work_status", "nik_birth_date_mismatch", "nik_gender_mismatch", "age_above_limit",
            "age_below_minimum", "already_registered", "covered_by_other_scheme", "registration_not_accepted",
            "membership_ended", "unknown_registration", "invalid_months", "amount_mismatch", "exceeds_age_limit",
            "paid_before_registration",
        ]
        #expect(Set(RuleCode.allCases.map(\.rawValue)) == expected)
    }

    @Test(arguments: RuleCode.allCases)
    func everyCodeHasAnIndonesianMessage(code: RuleCode) {
        #expect(!code.defaultMessage.isEmpty)
        #expect(RuleViolation(field: "x", code: code).message == code.defaultMessage)
    }

    @Test(arguments: [
        (50_400 as Int64, "Rp 50.400"), (16_800, "Rp 16.800"), (1_234_567, "Rp 1.234.567"), (0, "Rp 0"),
        (999, "Rp 999"),
    ])
    func rupiah(amount: Int64, text: String) {
        #expect(Money.rupiah(amount) == text)
    }

    @Test func specificMessages() {
        #expect(
            RuleViolation.ageAboveLimit(maximumMonths: 779).message == "Usia pekerja melebihi batas 64 tahun 11 bulan")
        #expect(RuleViolation.amountMismatch(expected: 50_400, months: 3).message.contains("Rp 50.400"))
        #expect(RuleViolation.exceedsAgeLimit(monthsLeft: 2, maximumMonths: 779).message.contains("2 bulan"))
        #expect(RuleViolation.missing("worker.work_location.kecamatan").field == "worker.work_location.kecamatan")
    }
}
