internal import PeduliBase

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Capped exponential backoff with jitter, for reconnects. Pure: the random number comes in, so
/// tests pin it. Jitter spreads a fleet of workers that lost the broker at the same moment.
public struct Backoff: Sendable, Equatable {
    /// Delay before the first retry (default 100 ms).
    public var initial: Duration
    /// Upper bound of any delay (default 30 s).
    public var maximum: Duration
    /// Growth per attempt (default 2).
    public var multiplier: Double
    /// Fraction of the delay that is random, 0...1 (default 0.5): the delay lies in
    /// `[base * (1 - jitter), base]`.
    public var jitter: Double

    public init(
        initial: Duration = .milliseconds(100), maximum: Duration = .seconds(30), multiplier: Double = 2,
        jitter: Double = 0.5
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
    }

    /// The un-jittered delay before retry number `attempt` (0 = first retry).
    public func baseDelay(attempt: Int) -> Duration {
        let initialSeconds = initial.seconds
        let maximumSeconds = maximum.seconds
        guard initialSeconds > 0 else { return .zero }
        // Compare exponents instead of multiplying, so huge attempt numbers cannot overflow.
        let exponent = Double(max(0, attempt))
        if exponent * log2(multiplier) >= log2(maximumSeconds / initialSeconds) { return maximum }
        return .nanoseconds(Int64((initialSeconds * pow(multiplier, exponent) * 1e9).rounded()))
    }

    /// The delay before retry number `attempt`, with `random` in 0..<1.
    public func delay(attempt: Int, random: Double) -> Duration {
        let base = baseDelay(attempt: attempt).seconds
        let unit = min(max(random, 0), 1)
        let seconds = base * (1 - jitter + jitter * unit)
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        delay(attempt: attempt, random: Double.random(in: 0..<1, using: &generator))
    }
}
