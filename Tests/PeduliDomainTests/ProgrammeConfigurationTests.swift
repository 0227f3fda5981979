import Testing

@testable import PeduliDomain

struct ProgrammeConfigurationTests {
    @Test func defaultsOfTheRules() throws {
        let c = ProgrammeConfiguration.default
        #expect(c.allowedPaymentMonths == [1, 2, 3, 6, 12])
        #expect(c.minimumAgeYears == 18)
        #expect(c.maximumAgeMonths == 779)
        #expect(c.graceMonths == 3)
        #expect(c.dueDayOfMonth == 15)
        #expect(c.dueReminderDays == 7)
        #expect(c.firstPaymentDays == 14)
        #expect(c.clockSkewSeconds == 300)
        #expect(c.nikConsistency == .reject)
        #expect(c.allowPPPK)
        #expect(c.enforceSponsorRoster)
        try c.validate()
    }

    @Test(
        arguments: [
            { (c: inout ProgrammeConfiguration) in c.graceMonths = -1 },
            { (c: inout ProgrammeConfiguration) in c.dueDayOfMonth = 31 },
            { (c: inout ProgrammeConfiguration) in c.allowedPaymentMonths = [] },
            { (c: inout ProgrammeConfiguration) in c.allowedPaymentMonths = [0, 1] },
            { (c: inout ProgrammeConfiguration) in c.clockSkewSeconds = -5 },
        ] as [@Sendable (inout ProgrammeConfiguration) -> Void])
    func rejectsNonsense(change: @Sendable (inout ProgrammeConfiguration) -> Void) {
        var c = ProgrammeConfiguration()
        change(&c)
        #expect(throws: ConfigurationError.self) { try c.validate() }
    }

    @Test func reminderStateFromRegistration() {
        let accepted = RegistrationReminderState(registrationState(paidThrough: "2026-12"))
        #expect(accepted?.acceptedOn == date("2026-11-20"))
        #expect(accepted?.paidThrough == ym("2026-12"))
        #expect(RegistrationReminderState(registrationState(status: .rejected)) == nil)
    }
}
