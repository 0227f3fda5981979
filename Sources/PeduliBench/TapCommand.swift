import AMQPClient
import ArgumentParser
import Foundation

/// `peduli-bench tap`: a durable queue bound to `peduli.events` (`#`) and `peduli.dead`, so a demo can
/// show what the worker emitted: `tap --declare` before, `tap --show N` after (drains and deletes it).
struct TapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tap",
        abstract: "Declare a queue on peduli.events and peduli.dead, or drain it and show what came.")

    @Option(help: "Queue name.") var queue: String = "bench.tap"
    @Flag(help: "Declare and bind the queue.") var declare = false
    @Option(help: "Drain the queue, print counts by type and this many sample bodies per type, delete it.") var show:
        Int?
    @Option(help: "Broker URL; default $PEDULI_TEST_AMQP_PORTAL_URL.") var url: String?

    func run() throws {
        guard let url = url ?? getenv("PEDULI_TEST_AMQP_PORTAL_URL").map({ String(cString: $0) }) else {
            throw ValidationError("no broker: pass --url or set PEDULI_TEST_AMQP_PORTAL_URL")
        }
        let c = try AMQPConnection(configuration: try AMQPConfiguration(url: url, connectionName: "peduli-bench-tap"))
        defer { c.close() }
        if declare {
            try c.declareQueue(name: queue, durable: true)
            try c.bindQueue(name: queue, exchange: "peduli.events", routingKey: "#")
            try c.bindQueue(name: queue, exchange: "peduli.dead", routingKey: "")
        }
        guard let show else { return }
        try c.qos(prefetchCount: 500)
        try c.consume(queue: queue, noAck: true)
        var counts: [String: Int] = [:]
        var samples: [String: [String]] = [:]
        while let event = try c.nextEvent(timeout: .seconds(2)) {
            guard case .delivery(let d) = event else { continue }
            var type = d.properties.type ?? d.routingKey
            if let reason = d.properties.headers?["x-peduli-reason"]?.stringValue { type = "dead-letter:" + reason }
            counts[type, default: 0] += 1
            if samples[type, default: []].count < show, !type.hasPrefix("dead-letter") {
                samples[type, default: []].append(String(decoding: d.body, as: UTF8.self))
            }
        }
        _ = try c.deleteQueue(name: queue)
        print("messages by type:")
        for (k, v) in counts.sorted(by: { $0.key < $1.key }) {
            print("  " + k.padding(toLength: 40, withPad: " ", startingAt: 0) + "\(v)")
        }
        for (k, bodies) in samples.sorted(by: { $0.key < $1.key }) {
            print("sample \(k):")
            for b in bodies { print("  " + b) }
        }
    }
}
