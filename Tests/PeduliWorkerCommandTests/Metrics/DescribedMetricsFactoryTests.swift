import Foundation
import Metrics
import PeduliWorker
import Prometheus
import Testing

@testable import PeduliWorkerCommand

/// The metrics backend: HELP on every metric, buckets fitted to what is measured, every known series present
/// at 0 before anything happened. (The live scrape through `promtool check metrics` is an integration test.)
struct DescribedMetricsFactoryTests {
    static func exposition(
        pipeline: PipelineConfiguration = PipelineConfiguration()
    ) -> (String, DescribedMetricsFactory) {
        let registry = PrometheusCollectorRegistry()
        let definitions = PipelineMetrics.definitions(pipeline: pipeline)
        let factory = DescribedMetricsFactory(registry: registry, definitions: definitions)
        PipelineMetrics.preregister(definitions, factory: factory)
        return (registry.emitToString(), factory)
    }

    /// Every name `PipelineMetrics` declares, read from its source so that a new name cannot lack a definition.
    static var declaredNames: [String] {
        get throws {
            let source = try String(
                contentsOf: ProjectDocumentsTests.root.appendingPathComponent(
                    "Sources/PeduliWorker/Service/PipelineMetrics.swift"),
                encoding: .utf8)
            let pattern = try Regex(#"public static let \w+Name = "(peduli_\w+)""#)
            return source.matches(of: pattern).compactMap { $0.output[1].substring.map(String.init) }
        }
    }

    @Test func everyDeclaredNameHasADefinitionWithHelp() throws {
        let definitions = PipelineMetrics.definitions(pipeline: PipelineConfiguration())
        let names = try Self.declaredNames
        #expect(names.count >= 20)
        #expect(Set(definitions.map(\.name)) == Set(names))
        #expect(definitions.count == names.count)
        for definition in definitions {
            #expect(!definition.help.isEmpty && !definition.help.contains("\n"), "\(definition.name)")
            if definition.name.hasSuffix("_total") { #expect(definition.kind == .counter, "\(definition.name)") }
        }
    }

    @Test func everyMetricIsExposedWithHelpAndTypeFromStartUp() {
        let (text, _) = Self.exposition()
        for definition in PipelineMetrics.definitions(pipeline: PipelineConfiguration()) {
            #expect(text.contains("# HELP \(definition.name) \(definition.help)\n"), "\(definition.name)")
            #expect(text.contains("# TYPE \(definition.name) "), "\(definition.name)")
        }
    }

    @Test func labelledCountersArePresentAtZero() {
        let (text, _) = Self.exposition()
        for line in [
            #"peduli_outcomes_total{command="registration",outcome="accepted",reason="none"} 0"#,
            #"peduli_outcomes_total{command="payment",outcome="rejected",reason="amount_mismatch"} 0"#,
            #"peduli_outcomes_total{command="payment",outcome="retry_scheduled",reason="unknown_registration"} 0"#,
            #"peduli_outcomes_total{command="registration",outcome="parked",reason="invalid_headers"} 0"#,
            #"peduli_dead_letters_total{reason="conflicting_duplicate"} 0"#,
            #"peduli_commands_consumed_total{command="payment"} 0"#,
            #"peduli_retries_scheduled_total{attempt="4"} 0"#,
            #"peduli_outbox_published_total{kind="parked"} 0"#,
            #"peduli_reminders_emitted_total{kind="membership.ended"} 0"#,
            #"peduli_reconnects_total{dependency="amqp",loop="consumer"} 0"#,
            #"peduli_batch_retries_total{why="concurrent_claim"} 0"#,
            #"peduli_outbox_set_aside_total{reason="refused"} 0"#,
            "peduli_events_published_total 0", "peduli_outbox_refused_total 0",
        ] {
            #expect(text.contains(line + "\n"), "\(line)")
        }
    }

    @Test func histogramsHaveTheFittedBuckets() {
        var pipeline = PipelineConfiguration()
        pipeline.batchSize = 200
        let (text, factory) = Self.exposition(pipeline: pipeline)
        for le in ["0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.1", "1.0", "10.0", "+Inf"] {
            #expect(text.contains(#"peduli_outbox_confirm_seconds_bucket{le="\#(le)"} 0"#), "\(le)")
            #expect(text.contains(#"peduli_decide_to_commit_seconds_bucket{le="\#(le)"} 0"#), "\(le)")
        }
        for le in ["1.0", "2.0", "5.0", "10.0", "20.0", "50.0", "100.0", "200.0", "+Inf"] {
            #expect(text.contains(#"peduli_batch_size_bucket{le="\#(le)"} 0"#), "\(le)")
        }
        #expect(!text.contains(#"peduli_batch_size_bucket{le="500.0"}"#))
        // Recorded through swift-metrics as the pipeline does: 1.5 ms lands in the 2.5 ms bucket, not below 5 ms.
        Timer(label: PipelineMetrics.outboxConfirmName, factory: factory).recordNanoseconds(1_500_000)
        Recorder(label: PipelineMetrics.batchSizeName, aggregate: true, factory: factory).record(17)
        let after = factory.registry.emitToString()
        #expect(after.contains(#"peduli_outbox_confirm_seconds_bucket{le="0.001"} 0"#))
        #expect(after.contains(#"peduli_outbox_confirm_seconds_bucket{le="0.0025"} 1"#))
        #expect(after.contains(#"peduli_batch_size_bucket{le="10.0"} 0"#))
        #expect(after.contains(#"peduli_batch_size_bucket{le="20.0"} 1"#))
    }

    @Test(
        arguments: [
            (1, [1.0]), (2, [1, 2]), (16, [1, 2, 5, 10, 16]), (200, [1, 2, 5, 10, 20, 50, 100, 200]),
            (1000, [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]),
        ] as [(Int, [Double])])
    func batchSizeBuckets(maximum: Int, buckets: [Double]) {
        #expect(PipelineMetrics.batchSizeBuckets(maximum: maximum) == buckets)
    }

    @Test func preregisteringKeepsExistingValues() {
        let registry = PrometheusCollectorRegistry()
        let definitions = PipelineMetrics.definitions(pipeline: PipelineConfiguration())
        let factory = DescribedMetricsFactory(registry: registry, definitions: definitions)
        Gauge(label: PipelineMetrics.amqpConnectedName, factory: factory).record(1)
        Counter(label: PipelineMetrics.eventsPublishedName, factory: factory).increment(by: 3)
        PipelineMetrics.preregister(definitions, factory: factory)
        let text = registry.emitToString()
        #expect(text.contains("peduli_amqp_connected 1.0\n") || text.contains("peduli_amqp_connected 1\n"))
        #expect(text.contains("peduli_events_published_total 3\n"))
    }

    @Test func aMetricWithoutDefinitionStillHasHelp() {
        let registry = PrometheusCollectorRegistry()
        let factory = DescribedMetricsFactory(registry: registry, definitions: [])
        Counter(label: "library_things_total", factory: factory).increment()
        #expect(registry.emitToString().contains("# HELP library_things_total "))
    }
}
