import AMQPClient
import ArgumentParser
import Foundation
import Histogram
import PeduliDomain
import Synchronization

/// `peduli-bench load`: publishes commands as a portal and measures the worker end to end (first
/// publish to last outcome, publish→event latency), and the broker alone on the same messages.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Publish realistic commands as the portal and measure the worker end to end, and the broker alone."
    )

    @Option(help: "Registrations to publish.") var registrations: Int = 1_000
    @Option(help: "Payments to publish (each for an accepted registration of this run).") var payments: Int = 0
    @Option(help: "backlog: all registrations, wait for their outcomes, then the payments; mixed: interleaved.")
    var mode: String = "backlog"
    @Option(help: "Share of invalid commands (every rejection and dead-letter kind).") var invalidShare: Double = 0
    @Option(help: "Share of hostile (fuzzed) bodies.") var hostileShare: Double = 0
    @Flag(
        help:
            "The worker has security.allowed_publishers set: also send messages without user_id (unauthorized_publisher)."
    )
    var allowedPublishersSet = false
    @Option(help: "Commands per second; 0: as fast as confirms allow.") var rate: Double = 0
    @Option(help: "Publisher-confirm window.") var window: Int = 2_000
    @Option(help: "Messages for the broker-alone run (scratch quorum queue); 0: skip.") var baseline: Int = 50_000
    @Option(help: "Size of the sponsor roster (sponsors 0..<N of the sample workload).") var roster: Int = 16_000
    @Option(help: "First registration index (use a new one for each run on the same database).") var offset: Int = 0
    @Option(help: "Mixed mode: a payment is only sent for a registration published this many registrations ago.")
    var paymentLag: Int = 2_000
    @Option(help: "Seed of the generator.") var seed: UInt64 = 42
    @Option(help: "Give up when no outcome arrived for this many seconds.") var idleTimeout: Double = 60
    @Option(help: "Portal broker URL(s); default $PEDULI_BENCH_AMQP_URL, then $PEDULI_TEST_AMQP_PORTAL_URL.") var url:
        String?
    @Option(help: "Write the result as JSON to this file.") var json: String?
    @Option(help: "Write every publication and outcome (TSV) to this file, for the fault-run checker.") var record:
        String?
    @Option(help: "A label for the result (scenario name).") var label: String = "load"
    @Option(help: "Queue type of the run's own event and dead-letter queues (quorum for a cluster run).")
    var collectorQueueType: String = "classic"
    @Flag(help: "Exit non-zero if an outcome is missing or differs from the expected one.") var strict = false

    func validate() throws {
        guard ["backlog", "mixed"].contains(mode) else { throw ValidationError("--mode is backlog or mixed") }
        guard registrations >= 0, payments >= 0, window > 1, roster > 0, baseline >= 0 else {
            throw ValidationError("counts must be positive")
        }
    }

    func run() throws {
        let env = { (name: String) -> String? in getenv(name).map { String(cString: $0) } }
        guard let url = url ?? env("PEDULI_BENCH_AMQP_URL") ?? env("PEDULI_TEST_AMQP_PORTAL_URL") else {
            throw ValidationError("no broker: pass --url or set PEDULI_TEST_AMQP_PORTAL_URL")
        }
        let amqp = try AMQPConfiguration(url: url, connectionName: "peduli-bench")
        let user = amqp.endpoints.first?.user ?? "portal"
        let runID = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let reference = Date()
        func workload() -> BenchWorkload {
            BenchWorkload(
                runID: runID, rosterSize: roster, invalidShare: invalidShare, hostileShare: hostileShare,
                unauthorizedKind: allowedPublishersSet, portalUser: user, registrationOffset: offset,
                seed: seed, reference: reference)
        }

        // Subscribe first, so no event is missed.
        let state = RunState(record: record != nil)
        let collector = Collector(configuration: amqp, runID: runID, state: state)
        try collector.declare(queueType: collectorQueueType)
        collector.start()
        collector.ready.wait()
        defer { collector.deleteQueues() }

        // Broker alone: the same messages through a scratch quorum queue, no processing.
        var baselineRate: Double?
        let baselineCount = min(baseline, registrations + payments)
        if baselineCount > 0 {
            baselineRate = try brokerAlone(amqp, count: baselineCount, runID: runID, workload: workload())
            print("broker alone: \(baselineCount) messages, \(Int(baselineRate!)) msgs/s")
        }

        let publisher = ConfirmingPublisher(configuration: amqp, window: window)
        defer { publisher.close() }
        var gen = workload()
        let clock = ContinuousClock()
        let start = DispatchTime.now().uptimeNanoseconds
        var published = 0
        var phases: [[String: Any]] = []

        func send(_ m: BenchMessage) throws {
            if rate > 0 {
                let due = start + UInt64(Double(published) / rate * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { Thread.sleep(forTimeInterval: Double(due - now) / 1e9) }
            }
            var headers = m.headers
            headers["x-bench-seq"] = .int64(Int64(m.seq))
            headers["x-bench-kind"] = .string(m.kind)
            let props = AMQPProperties(
                contentType: m.contentType, headers: headers, deliveryMode: 2, correlationId: gen.messageID(m.seq),
                messageId: m.messageID, timestamp: UInt64(Date().timeIntervalSince1970), type: m.routingKey,
                userId: m.userID, appId: "peduli-bench")
            state.published(m)
            try publisher.publish(exchange: "peduli.inbound", routingKey: m.routingKey, body: m.body, properties: props)
            published += 1
        }

        func waitForOutcomes(_ target: Int) -> Bool {
            var last = state.outcomesSeen
            var lastChange = clock.now
            while true {
                let seen = state.outcomesSeen
                if seen >= target { return true }
                if seen != last { last = seen; lastChange = clock.now }
                if clock.now - lastChange > .seconds(idleTimeout) { return false }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }

        func phase(_ name: String, _ body: () throws -> Void) throws {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let startedAt = Date().timeIntervalSince1970
            let before = published
            try body()
            try publisher.flush()
            let complete = waitForOutcomes(published)
            let t1 = state.inner.withLock { $0.lastOutcomeNanos }
            let seconds = Double(max(t1, t0 + 1) - t0) / 1e9
            let n = published - before
            // Wall-clock bounds, so samples taken outside (CPU per process in scripts/bench-scenario) can be
            // cut to the phase.
            phases.append([
                "name": name, "commands": n, "seconds": seconds, "commands_per_second": Double(n) / seconds,
                "complete": complete, "started_at_unix": startedAt, "ended_at_unix": startedAt + seconds,
            ])
            print(
                "phase \(name): \(n) commands in \(String(format: "%.2f", seconds)) s = \(Int(Double(n) / seconds)) commands/s\(complete ? "" : " (INCOMPLETE)")"
            )
        }

        if mode == "backlog" {
            try phase("registrations") { for _ in 0..<registrations { try send(gen.nextRegistration()) } }
            if payments > 0 {
                try phase("payments") {
                    var sent = 0
                    while sent < payments, let p = gen.nextPayment() { try send(p); sent += 1 }
                }
            }
        } else {
            try phase("mixed") {
                // Payments only for registrations already accepted; when none is available, a registration
                // takes its place, so the run still sends registrations + payments commands.
                var r = 0, p = 0
                let total = registrations + payments
                while r + p < total {
                    let wantPayment = p < payments && (r >= registrations || (r + p) % 2 == 1)
                    if wantPayment, gen.payable.count > paymentLag || r >= registrations, let m = gen.nextPayment() {
                        try send(m); p += 1
                    } else {
                        try send(gen.nextRegistration()); r += 1
                    }
                }
            }
        }
        let end = state.inner.withLock { $0.lastOutcomeNanos }
        Thread.sleep(forTimeInterval: 1)  // late duplicates
        collector.stop()

        // Compare what came back with what was expected.
        let s = state.inner.withLock { $0 }
        var missing = 0
        var mismatched: [String: Int] = [:]
        let names = [0: "none", 1: "accepted", 2: "rejected", 3: "parked"]
        for i in 0..<s.publishedAt.count where s.publishedAt[i] != 0 {
            let got = s.firstOutcome[i]
            if got == 0 { missing += 1; continue }
            let ok: Bool
            switch Expectation(rawValue: s.expectations[i])! {
            case .accepted: ok = got == 1
            case .rejected: ok = got == 2
            case .parked: ok = got == 3
            case .either: ok = true
            case .hostile: ok = got == 2 || got == 3
            }
            if !ok {
                mismatched["\(Expectation(rawValue: s.expectations[i])!.label)->\(names[Int(got)]!)", default: 0] += 1
            }
        }
        let seconds = Double(max(end, start + 1) - start) / 1e9
        let cps = Double(s.outcomes) / seconds
        let h = s.histogram
        func ms(_ p: Double) -> Double { Double(h.valueAtPercentile(p)) / 1000 }
        let ratio = baselineRate.map { cps / $0 }

        print("")
        print("== \(label) (run \(runID)) ==")
        let rows: [(String, String)] = [
            (
                "published",
                "\(published) (+\(publisher.republished) republished after \(publisher.reconnects) reconnects)"
            ),
            ("outcomes (first per command)", "\(s.outcomes)"),
            ("missing", "\(missing)"),
            (
                "unexpected outcomes",
                mismatched.isEmpty
                    ? "0" : mismatched.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            ),
            ("duplicate deliveries", "\(s.extraEvents)"),
            ("other events (reminders, foreign)", "\(s.foreign)"),
            ("wall time first publish -> last outcome", String(format: "%.2f s", seconds)),
            ("commands/s end to end", String(format: "%.0f", cps)),
            ("broker alone msgs/s", baselineRate.map { String(format: "%.0f", $0) } ?? "-"),
            ("ratio end to end / broker alone", ratio.map { String(format: "%.3f", $0) } ?? "-"),
            (
                "latency p50 / p90 / p99 / p99.9 / max (ms)",
                String(
                    format: "%.1f / %.1f / %.1f / %.1f / %.1f", ms(50), ms(90), ms(99), ms(99.9),
                    Double(h.maxRecorded) / 1000)
            ),
        ]
        for (k, v) in rows { print(k.padding(toLength: 44, withPad: " ", startingAt: 0) + v) }
        print(
            "outcomes by type: "
                + s.byType.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        print(
            "reasons: "
                + s.byReason.sorted { $0.value > $1.value }.prefix(30).map { "\($0.key)=\($0.value)" }.joined(
                    separator: " "))

        if let json {
            var result: [String: Any] = [
                "label": label, "run_id": runID, "mode": mode, "published": published, "outcomes": s.outcomes,
                "missing": missing, "unexpected": mismatched, "duplicate_deliveries": s.extraEvents,
                "seconds": seconds, "commands_per_second": cps, "rate_target": rate,
                "latency_ms": [
                    "p50": ms(50), "p90": ms(90), "p99": ms(99), "p999": ms(99.9), "max": Double(h.maxRecorded) / 1000,
                ],
                "by_type": s.byType, "by_reason": s.byReason, "phases": phases,
                "republished": publisher.republished, "reconnects": publisher.reconnects,
                "invalid_share": invalidShare, "hostile_share": hostileShare,
            ]
            if let baselineRate { result["broker_alone_msgs_per_second"] = baselineRate }
            if let ratio { result["ratio_to_broker_alone"] = ratio }
            let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
        if let record {
            try (s.records.joined(separator: "\n") + "\n").write(toFile: record, atomically: true, encoding: .utf8)
        }
        if strict && (missing > 0 || !mismatched.isEmpty) { throw ExitCode(1) }
    }

    /// Publishes `count` messages of the same workload to a scratch quorum queue with the same
    /// confirm window, while another connection consumes and acks them; messages/s from first
    /// publish to last ack.
    private func brokerAlone(
        _ amqp: AMQPConfiguration, count: Int, runID: String, workload: BenchWorkload
    ) throws -> Double {
        let queue = "bench.baseline.\(runID)"
        let admin = try AMQPConnection(configuration: amqp)
        defer { admin.close() }
        try admin.declareQueue(name: queue, durable: true, arguments: ["x-queue-type": .string("quorum")])
        defer { _ = try? admin.deleteQueue(name: queue) }
        let consumed = Mutex<(Int, UInt64)>((0, 0))
        let finished = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let consumer = Thread {
            defer { finished.signal() }
            guard let c = try? AMQPConnection(configuration: amqp) else { started.signal(); return }
            defer { c.close() }
            _ = try? c.qos(prefetchCount: 400)
            _ = try? c.consume(queue: queue)
            started.signal()
            var n = 0, sinceAck = 0
            var idle = 0
            while n < count, idle < 300 {
                guard let e = try? c.nextEvent(timeout: .milliseconds(100)) else { idle += 1; continue }
                guard case .delivery(let d) = e else { continue }
                idle = 0
                n += 1; sinceAck += 1
                if sinceAck >= 100 || n == count {
                    try? c.ack(deliveryTag: d.deliveryTag, multiple: true); sinceAck = 0
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            consumed.withLock { $0 = (n, now) }
        }
        consumer.start()
        started.wait()
        var gen = workload
        let publisher = ConfirmingPublisher(configuration: amqp, window: window)
        defer { publisher.close() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        var paymentsLeft = payments
        var registrationsLeft = registrations
        while sent < count {
            let m: BenchMessage
            if registrationsLeft > 0 && (mode == "backlog" || paymentsLeft == 0 || sent % 2 == 0) {
                m = gen.nextRegistration(); registrationsLeft -= 1
            } else if let p = gen.nextPayment() {
                m = p; paymentsLeft -= 1
            } else {
                m = gen.nextRegistration(); registrationsLeft -= 1
            }
            let props = AMQPProperties(
                contentType: m.contentType, headers: ["x-bench-seq": .int64(Int64(m.seq))],
                deliveryMode: 2, correlationId: gen.messageID(m.seq), messageId: m.messageID,
                type: m.routingKey, userId: m.userID, appId: "peduli-bench")
            try publisher.publish(exchange: "", routingKey: queue, body: m.body, properties: props)
            sent += 1
        }
        try publisher.flush()
        finished.wait()
        let (n, t1) = consumed.withLock { $0 }
        guard n == count else { throw ValidationError("broker alone: consumed \(n) of \(count)") }
        return Double(count) / (Double(t1 - t0) / 1e9)
    }
}
