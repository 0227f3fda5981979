import AMQPClient
import Testing

@testable import PeduliWorker

struct TopologyTests {
    @Test func workQueuesAreQuorumWithADeliveryLimitAndAtLeastOnceDeadLettering() {
        let args = TopologyDeclaration(PipelineConfiguration.Topology()).workQueueArguments
        #expect(args["x-queue-type"] == .string("quorum"))
        #expect(args["x-delivery-limit"]?.int64Value == 5)
        #expect(args["x-dead-letter-exchange"] == .string("peduli.dead"))
        #expect(args["x-dead-letter-strategy"] == .string("at-least-once"))
        #expect(args["x-overflow"] == .string("reject-publish"))
    }

    @Test func retryQueuesExpireBackToThePaymentsQueue() {
        let args = TopologyDeclaration(PipelineConfiguration.Topology()).retryQueueArguments(delay: .seconds(60))
        #expect(args["x-message-ttl"]?.int64Value == 60_000)
        #expect(args["x-dead-letter-exchange"] == .string(""))
        #expect(args["x-dead-letter-routing-key"] == .string("peduli.payments"))
    }

    @Test func aMismatchNamesTheObjectAndTheBrokersWords() {
        let error = TopologyError(
            object: "queue peduli.payments",
            underlying: AMQPError(
                code: .preconditionFailed, operation: "declareQueue(peduli.payments)", replyCode: 406,
                replyText: "PRECONDITION_FAILED - inequivalent arg 'x-delivery-limit'"))
        #expect(error.mismatch)
        #expect(error.description.contains("queue peduli.payments"))
        #expect(error.description.contains("x-delivery-limit"))
    }
}
