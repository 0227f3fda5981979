import Testing

@testable import AMQPClient

/// The retry loop without a broker: port 1 on loopback refuses at once.
@Suite struct AMQPReconnectingConnectionTests {
    @Test func retriesWithBackoffUntilStopped() throws {
        let config = try AMQPConfiguration(
            url: "amqp://u:secret@127.0.0.1:1/,amqp://u:secret@127.0.0.1:1/v",
            connectTimeout: .seconds(1))
        final class Recorder { var sleeps: [Duration] = [] }
        let recorder = Recorder()
        let backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(400), multiplier: 2, jitter: 0.5)
        var setUpCalls = 0
        let reconnecting = AMQPReconnectingConnection(
            configuration: config, backoff: backoff,
            sleep: { recorder.sleeps.append($0) }, random: { 0 }
        ) { _ in setUpCalls += 1 }
        var checks = 0
        let error = #expect(throws: AMQPError.self) {
            // Stop once the fourth attempt has failed and its sleep has begun.
            _ = try reconnecting.connect(shouldStop: {
                checks += 1
                return recorder.sleeps.count >= 4
            })
        }
        #expect(error?.code == .connectionClosed)
        #expect(setUpCalls == 0)
        #expect(reconnecting.connection == nil)
        #expect(reconnecting.generation == 0)
        // random 0 -> the low end of each jitter window: 50, 100, 200, 200 ms (capped at 400 * 0.5),
        // each sliced into sleeps of at most 100 ms.
        #expect(recorder.sleeps.count == 4)
        #expect(recorder.sleeps == [.milliseconds(50), .milliseconds(100), .milliseconds(100), .milliseconds(100)])
        #expect(error.map { "\($0)".contains("secret") } == false)
    }

    @Test(arguments: [
        (AMQPError.Code.connectionFailed, true), (.socketError, true), (.heartbeatTimeout, true),
        (.connectionClosedByServer, true), (.authenticationFailed, true), (.tls, true),
        (.channelClosedByServer, true), (.preconditionFailed, false), (.notFound, false), (.accessRefused, false),
        (.invalidArgument, false), (.invalidURL, false),
    ])
    func retryableErrors(_ code: AMQPError.Code, _ retryable: Bool) {
        #expect(AMQPReconnectingConnection.isRetryable(AMQPError(code: code, operation: "x")) == retryable)
    }
}
