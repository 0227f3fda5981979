import Metrics
import PeduliWorker
import Prometheus

/// The swift-metrics backend: swift-prometheus's registry, with the HELP text and the histogram buckets of
/// each metric taken from `PipelineMetrics.definitions`. swift-prometheus's own `PrometheusMetricsFactory`
/// registers every metric with an empty HELP, and its registry refuses (fatally) a second registration of a
/// name under another HELP, so the HELP has to be given by the factory that every metric goes through.
struct DescribedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let definitions: [String: PipelineMetrics.Definition]
    private let plain: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry, definitions: [PipelineMetrics.Definition]) {
        self.registry = registry
        self.definitions = Dictionary(definitions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.plain = PrometheusMetricsFactory(registry: registry)
    }

    /// The HELP of a metric; one the definitions do not know (a library's own metric) still gets one, so the
    /// exposition stays `promtool check metrics` clean.
    func help(_ name: String) -> String {
        definitions[name]?.help ?? "\(name) (no description in PipelineMetrics.definitions)"
    }

    private func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help(name))
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        var buckets = plain.defaultValueHistogramBuckets
        if case .values(let fitted) = definitions[label]?.kind { buckets = fitted }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        var buckets = plain.defaultDurationHistogramBuckets
        if case .seconds(let fitted) = definitions[label]?.kind {
            buckets = fitted.map { .nanoseconds(Int64(($0 * 1e9).rounded())) }
        }
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { plain.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        plain.destroyFloatingPointCounter(handler)
    }
    func destroyRecorder(_ handler: any RecorderHandler) { plain.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { plain.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { plain.destroyTimer(handler) }
}
