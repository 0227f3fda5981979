import Testing

@testable import AMQPClient

@Suite struct BackoffTests {
    let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5), multiplier: 2, jitter: 0.5)

    @Test(arguments: [
        (0, 100), (1, 200), (2, 400), (5, 3200), (6, 5000), (7, 5000), (1000, 5000), (Int.max, 5000),
        (-3, 100),
    ])
    func baseDelayGrowsAndCaps(_ attempt: Int, _ milliseconds: Int) {
        #expect(backoff.baseDelay(attempt: attempt) == .milliseconds(Int64(milliseconds)))
    }

    @Test(arguments: [(0.0, 50), (0.5, 75), (0.999_999, 100), (-1.0, 50), (7.0, 100)])
    func jitterStaysWithinBounds(_ random: Double, _ milliseconds: Int) {
        let delay = backoff.delay(attempt: 0, random: random)
        #expect(abs((delay - .milliseconds(Int64(milliseconds))).seconds) < 0.001)
    }

    @Test func noJitterIsDeterministic() {
        let fixed = Backoff(initial: .seconds(1), maximum: .seconds(60), multiplier: 3, jitter: 0)
        #expect(fixed.delay(attempt: 2, random: 0.123) == .seconds(9))
        #expect(fixed.delay(attempt: 10, random: 0.9) == .seconds(60))
    }

    @Test func injectedGeneratorIsUsed() {
        struct Constant: RandomNumberGenerator {
            mutating func next() -> UInt64 { 0 }
        }
        var generator = Constant()
        #expect(backoff.delay(attempt: 3, using: &generator) == .milliseconds(400))
    }

    @Test func maximumHoldsOverManyAttempts() {
        var generator = SystemRandomNumberGenerator()
        for attempt in 0..<200 {
            let d = backoff.delay(attempt: attempt, using: &generator)
            #expect(d <= .seconds(5) && d >= .milliseconds(50))
        }
    }
}
