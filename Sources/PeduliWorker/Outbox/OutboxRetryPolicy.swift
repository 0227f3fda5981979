/// What the relay does with a row the broker refused (a nack: a queue at its `x-max-length` with
/// `reject-publish`, a quorum queue without a leader...). Publishing it again at once gets the same answer,
/// and a fanout copy that some queues took and one refused lands in the others again each time: 3 commands
/// once made 372,000 duplicates in 12 s. So each row waits longer after each refusal, and after
/// `maxAttempts` refusals it is set aside for an operator instead of being retried for ever.
///
/// Rows are not held back by a waiting row: the relay takes the oldest rows that are due, so events still
/// leave in creation order except a refused row, which goes out after later ones (docs/contract.md).
public struct OutboxRetryPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var maxAttempts: Int

    public init(initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(300), maxAttempts: Int = 20) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maxAttempts = maxAttempts
    }

    public enum Decision: Sendable, Equatable {
        /// Try again no sooner than this.
        case retry(after: Duration)
        /// Move the row to `outbox_set_aside`.
        case setAside
    }

    /// For a row refused now, having been refused `previousAttempts` times before.
    public func afterRefusal(previousAttempts: Int) -> Decision {
        let attempts = previousAttempts + 1
        if attempts >= maxAttempts { return .setAside }
        var delay = initialDelay
        for _ in 1..<attempts {
            delay = delay * 2
            if delay >= maximumDelay { return .retry(after: maximumDelay) }
        }
        return .retry(after: min(delay, maximumDelay))
    }
}
