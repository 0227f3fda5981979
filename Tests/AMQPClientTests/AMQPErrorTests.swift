import Testing

@testable import AMQPClient

@Suite struct AMQPErrorTests {
    @Test(arguments: [
        (AMQPError.Code.socketError, true, true),
        (.heartbeatTimeout, true, true),
        (.connectionClosedByServer, true, true),
        (.connectionClosed, true, true),
        (.channelClosedByServer, false, true),
        (.preconditionFailed, false, true),
        (.notFound, false, true),
        (.invalidURL, false, false),
        (.invalidArgument, false, false),
        (.authenticationFailed, false, false),
    ])
    func classification(_ code: AMQPError.Code, _ lost: Bool, _ reconnect: Bool) {
        let error = AMQPError(code: code, operation: "op")
        #expect(error.isConnectionLost == lost)
        #expect(error.requiresReconnect == reconnect)
    }

    @Test func rpcTimeoutLosesTheConnectionButAConfirmWaitDoesNot() {
        #expect(
            AMQPError(code: .timeout, operation: "declareQueue(q)", libraryStatus: "operation timed out")
                .isConnectionLost)
        #expect(!AMQPError(code: .timeout, operation: "waitForConfirms(5)").isConnectionLost)
    }

    @Test(arguments: [
        (UInt16(403), AMQPError.Code.accessRefused), (404, .notFound), (405, .resourceLocked),
        (406, .preconditionFailed), (505, .channelClosedByServer),
    ])
    func brokerReplyCodes(_ reply: UInt16, _ code: AMQPError.Code) {
        #expect(AMQPConnection.brokerCode(reply, channelLevel: true) == code)
        #expect(AMQPConnection.brokerCode(reply, channelLevel: false) == .connectionClosedByServer)
    }

    @Test func descriptionNamesEverything() {
        let error = AMQPError(
            code: .preconditionFailed, operation: "declareQueue(peduli.payments)",
            endpoint: "amqp://w:***@h:5672/", replyCode: 406,
            replyText: "PRECONDITION_FAILED - inequivalent arg 'x-max-length'",
            libraryStatus: nil, detail: "x")
        let text = "\(error)"
        for part in ["precondition_failed", "declareQueue(peduli.payments)", "406", "x-max-length", "amqp://w:***@h"] {
            #expect(text.contains(part), "\(text)")
        }
    }
}
