import AMQPClient
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Publishes N persistent messages with publisher confirms to a fresh queue, then consumes them
/// with multiple-acks, and reports msgs/s for publishing and for the whole round trip.
struct AMQPRoundTripCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amqp-roundtrip",
        abstract: "Publish N persistent messages with confirms, consume them with multiple-acks, print msgs/s."
    )

    @Option(help: "Number of messages.")
    var count: Int = 10_000

    @Option(help: "Body size in bytes.")
    var size: Int = 256

    @Option(help: "Wait for confirms after this many publishes.")
    var confirmWindow: Int = 1_000

    @Option(help: "Consumer prefetch.")
    var prefetch: UInt16 = 200

    @Option(help: "Ack (multiple) after this many deliveries.")
    var ackEvery: Int = 50

    @Option(help: "Broker URL(s); default $PEDULI_AMQP_URL, then $PEDULI_TEST_AMQP_URL.")
    var url: String?

    @Option(help: "Queue type: classic or quorum.")
    var queueType: String = "classic"

    func validate() throws {
        guard count > 0, size >= 0, confirmWindow > 0, ackEvery > 0, prefetch > 0 else {
            throw ValidationError("count, confirm-window, ack-every and prefetch must be positive")
        }
    }

    func run() throws {
        let env = { (name: String) -> String? in getenv(name).map { String(cString: $0) } }
        guard let url = url ?? env("PEDULI_AMQP_URL") ?? env("PEDULI_TEST_AMQP_URL") else {
            throw ValidationError("no broker: pass --url or set PEDULI_AMQP_URL")
        }
        let config = try AMQPConfiguration(url: url, connectionName: "peduli-bench")
        let queue = "bench.roundtrip.\(UInt32.random(in: 0...UInt32.max))"
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let clock = ContinuousClock()

        let publisher = try AMQPConnection(configuration: config)
        defer { publisher.close() }
        try publisher.declareQueue(name: queue, durable: true, arguments: ["x-queue-type": .string(queueType)])
        defer { _ = try? publisher.deleteQueue(name: queue) }
        try publisher.confirmSelect()

        let start = clock.now
        var nacked: [UInt64] = []
        for i in 1...count {
            try publisher.publish(
                exchange: "", routingKey: queue, body: body,
                properties: AMQPProperties(
                    deliveryMode: AMQPProperties.persistentDeliveryMode,
                    messageId: String(i)))
            if i % confirmWindow == 0 { nacked += try publisher.waitForConfirms(timeout: .seconds(60)) }
        }
        nacked += try publisher.waitForConfirms(timeout: .seconds(60))
        let published = clock.now
        guard nacked.isEmpty else { throw ValidationError("\(nacked.count) publishes were nacked") }

        let consumer = try AMQPConnection(configuration: config)
        defer { consumer.close() }
        try consumer.qos(prefetchCount: prefetch)
        try consumer.consume(queue: queue)
        var received = 0
        var sinceAck = 0
        var lastTag: UInt64 = 0
        let deadline = clock.now + .seconds(300)
        while received < count {
            guard clock.now < deadline else { throw ValidationError("timed out after \(received) deliveries") }
            guard case .delivery(let delivery)? = try consumer.nextEvent(timeout: .seconds(1)) else { continue }
            received += 1
            sinceAck += 1
            lastTag = delivery.deliveryTag
            if sinceAck == ackEvery {
                try consumer.ack(deliveryTag: lastTag, multiple: true)
                sinceAck = 0
            }
        }
        if sinceAck > 0 { try consumer.ack(deliveryTag: lastTag, multiple: true) }
        let done = clock.now

        func rate(_ d: Duration) -> String {
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            return String(Int((Double(count) / seconds).rounded()))
        }
        func ms(_ d: Duration) -> String {
            String(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
        }
        print(
            "amqp-roundtrip: \(count) persistent messages of \(size) B, \(queueType) queue, confirm window \(confirmWindow), prefetch \(prefetch), ack every \(ackEvery)"
        )
        print("publish (confirmed): \(ms(published - start)) ms, \(rate(published - start)) msgs/s")
        print("consume (acked):     \(ms(done - published)) ms, \(rate(done - published)) msgs/s")
        print("round trip:          \(ms(done - start)) ms, \(rate(done - start)) msgs/s")
    }
}
