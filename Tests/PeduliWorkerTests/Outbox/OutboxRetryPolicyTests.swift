import Testing

@testable import PeduliWorker

struct OutboxRetryPolicyTests {
    static let policy = OutboxRetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(300), maxAttempts: 20)

    @Test(arguments: [
        (0, OutboxRetryPolicy.Decision.retry(after: .seconds(1))),
        (1, .retry(after: .seconds(2))),
        (2, .retry(after: .seconds(4))),
        (8, .retry(after: .seconds(256))),
        (9, .retry(after: .seconds(300))),
        (18, .retry(after: .seconds(300))),
        (19, .setAside),
        (40, .setAside),
    ])
    func delaysDoubleUpToTheMaximumThenTheRowIsSetAside(_ previous: Int, _ expected: OutboxRetryPolicy.Decision) {
        #expect(Self.policy.afterRefusal(previousAttempts: previous) == expected)
    }

    @Test func aSingleAttemptPolicySetsAsideAtOnce() {
        #expect(OutboxRetryPolicy(maxAttempts: 1).afterRefusal(previousAttempts: 0) == .setAside)
    }
}
