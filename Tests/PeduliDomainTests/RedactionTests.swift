import Testing

@testable import PeduliDomain

/// Personal data never leaks through string interpolation of the domain's values.
struct RedactionTests {
    let secrets = ["3374015203800001", "81234567890", "Pemuda"]

    @Test func draftsAndDecisionsPrintWithoutPersonalData() {
        let draft = RegistrationDraft.decode(registration(), config: config, now: registrationNow)
        let decision = decideRegistration(draft, facts: activeFacts, config: config, acceptedAt: registrationNow)
        for text in ["\(draft)", String(reflecting: draft), "\(decision)", String(reflecting: decision)] {
            for s in secrets { #expect(!text.contains(s), "leaks \(s)") }
        }
        #expect("\(draft)".contains("3374********0001"))
    }
}
