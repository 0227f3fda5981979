import Testing

@testable import PeduliWorker

struct PipelineConfigurationTests {
    static let cases: [(Duration, String)] = [
        (.seconds(10), "peduli.payments.retry.10s"), (.seconds(60), "peduli.payments.retry.1m"),
        (.seconds(600), "peduli.payments.retry.10m"), (.seconds(3600), "peduli.payments.retry.1h"),
        (.seconds(90), "peduli.payments.retry.90s"), (.milliseconds(500), "peduli.payments.retry.500ms"),
    ]

    @Test(arguments: cases)
    func retryQueueNames(_ delay: Duration, _ name: String) {
        #expect(PipelineConfiguration.Topology().retryQueue(for: delay) == name)
    }

    @Test func contractDefaults() {
        let t = PipelineConfiguration.Topology()
        #expect(t.deliveryLimit == 5)
        #expect(t.retryDelays == [.seconds(10), .seconds(60), .seconds(600), .seconds(3600)])
        #expect(PipelineConfiguration().maxMessageBytes == 65_536)
        #expect(PipelineConfiguration().drain == .seconds(20))
    }
}
