import AMQPClient
import Foundation
import Histogram
import PeduliDomain
import Synchronization

/// What the subscriber saw for one command.
struct Outcome: Sendable {
    var type: String
    var id: String
}

/// Shared between the publisher (records publish times) and the subscriber (records outcomes).
/// Guarded by a `Mutex`, so both threads may touch it.
final class RunState: Sendable {
    struct Inner {
        var publishedAt: [UInt64] = []
        var expectations: [UInt8] = []
        var firstOutcome: [UInt8] = []
        var outcomes = 0
        var extraEvents = 0
        var foreign = 0
        var byType: [String: Int] = [:]
        var byReason: [String: Int] = [:]
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var lastOutcomeNanos: UInt64 = 0
        var records: [String] = []
        var record = false
    }

    let inner: Mutex<Inner>

    init(record: Bool) { inner = Mutex(Inner(record: record)) }

    func published(_ m: BenchMessage) {
        let now = DispatchTime.now().uptimeNanoseconds
        inner.withLock { s in
            while s.publishedAt.count <= m.seq {
                s.publishedAt.append(0)
                s.expectations.append(0)
                s.firstOutcome.append(0)
            }
            if s.publishedAt[m.seq] == 0 { s.publishedAt[m.seq] = now }
            s.expectations[m.seq] = m.expectation.rawValue
            if s.record { s.records.append("P\t\(m.seq)\t\(m.messageID ?? "-")\t\(m.expectation.label)\t\(m.kind)") }
        }
    }

    /// code 1 accepted, 2 rejected, 3 parked.
    func outcome(seq: Int?, code: UInt8, type: String, id: String, reason: String?) {
        let now = DispatchTime.now().uptimeNanoseconds
        inner.withLock { s in
            s.byType[type, default: 0] += 1
            if let reason { s.byReason[reason, default: 0] += 1 }
            guard let seq, seq < s.publishedAt.count, s.publishedAt[seq] != 0 else {
                s.foreign += 1
                return
            }
            if s.record { s.records.append("O\t\(seq)\t\(type)\t\(id)\t\(reason ?? "-")") }
            if s.firstOutcome[seq] != 0 {
                s.extraEvents += 1
                return
            }
            s.firstOutcome[seq] = code
            s.outcomes += 1
            s.lastOutcomeNanos = now
            let latency = (now &- s.publishedAt[seq]) / 1000
            _ = s.histogram.record(max(1, latency))
        }
    }

    var outcomesSeen: Int { inner.withLock { $0.outcomes } }
}

/// Consumes the run's own durable queues (events bound `#`, dead letters bound to the fanout) on a
/// thread of its own; survives broker restarts by reconnecting (the queues are durable).
final class Collector: @unchecked Sendable {
    // @unchecked: `stop` is a Mutex; everything else is immutable after init or touched only by the thread.
    let configuration: AMQPConfiguration
    let eventsQueue: String
    let deadQueue: String
    let eventsExchange: String
    let deadExchange: String
    let runID: String
    let state: RunState
    let stopFlag = Mutex(false)
    let done = DispatchSemaphore(value: 0)
    let ready = DispatchSemaphore(value: 0)

    init(
        configuration: AMQPConfiguration, runID: String, state: RunState,
        eventsExchange: String = "peduli.events", deadExchange: String = "peduli.dead"
    ) {
        self.configuration = configuration
        self.runID = runID
        self.state = state
        self.eventsQueue = "bench.events.\(runID)"
        self.deadQueue = "bench.dead.\(runID)"
        self.eventsExchange = eventsExchange
        self.deadExchange = deadExchange
    }

    /// Declares and binds the queues (retrying until the worker has declared its exchanges).
    func declare(queueType: String = "classic", timeout: Duration = .seconds(120)) throws {
        // A run that is killed leaves its queues bound to the exchanges, and every later event would be
        // stored in them for nobody: they expire once unused for two minutes.
        let args: AMQPTable = ["x-queue-type": .string(queueType), "x-expires": .int32(120_000)]
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            do {
                let c = try AMQPConnection(configuration: configuration)
                defer { c.close() }
                try c.declareQueue(name: eventsQueue, durable: true, arguments: args)
                try c.declareQueue(name: deadQueue, durable: true, arguments: args)
                try c.bindQueue(name: eventsQueue, exchange: eventsExchange, routingKey: "#")
                try c.bindQueue(name: deadQueue, exchange: deadExchange, routingKey: "")
                return
            } catch {
                if clock.now > deadline { throw error }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    func start() {
        let t = Thread { [self] in loop() }
        t.name = "bench-collector"
        t.start()
    }

    func stop() {
        stopFlag.withLock { $0 = true }
        done.wait()
    }

    func deleteQueues() {
        if let c = try? AMQPConnection(configuration: configuration) {
            _ = try? c.deleteQueue(name: eventsQueue)
            _ = try? c.deleteQueue(name: deadQueue)
            c.close()
        }
    }

    private func loop() {
        var signalled = false
        while !stopFlag.withLock({ $0 }) {
            do {
                let c = try AMQPConnection(configuration: configuration)
                defer { c.close() }
                try c.qos(prefetchCount: 2000)
                try c.consume(queue: eventsQueue)
                try c.consume(queue: deadQueue)
                if !signalled { ready.signal(); signalled = true }
                var unacked = 0
                var lastTag: UInt64 = 0
                while !stopFlag.withLock({ $0 }) {
                    guard let event = try c.nextEvent(timeout: .milliseconds(100)) else {
                        if unacked > 0 { try c.ack(deliveryTag: lastTag, multiple: true); unacked = 0 }
                        continue
                    }
                    guard case .delivery(let d) = event else { continue }
                    handle(d)
                    lastTag = d.deliveryTag
                    unacked += 1
                    if unacked >= 500 { try c.ack(deliveryTag: lastTag, multiple: true); unacked = 0 }
                }
                if unacked > 0 { try? c.ack(deliveryTag: lastTag, multiple: true) }
            } catch {
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        if !signalled { ready.signal() }
        done.signal()
    }

    private func handle(_ d: AMQPDelivery) {
        if d.exchange == deadExchange || d.properties.headers?["x-peduli-reason"] != nil
            || d.properties.headers?["x-death"] != nil
        {
            // A copy parked for its headers has them replaced: the message id still names the command.
            let seq =
                d.properties.headers?["x-bench-seq"]?.int64Value.map { Int($0) }
                ?? d.properties.messageId.flatMap { BenchWorkload.seq(fromCorrelation: $0, runID: runID) }
            let reason = d.properties.headers?["x-peduli-reason"]?.stringValue ?? "x-death"
            state.outcome(seq: seq, code: 3, type: "parked", id: d.properties.messageId ?? "-", reason: reason)
            return
        }
        let type = d.properties.type ?? d.routingKey
        let seq = d.properties.correlationId.flatMap { BenchWorkload.seq(fromCorrelation: $0, runID: runID) }
        let code: UInt8 =
            type.hasSuffix(".rejected") ? 2 : (type.hasPrefix("registration.") || type.hasPrefix("payment.")) ? 1 : 0
        if code == 0 {
            state.outcome(seq: nil, code: 0, type: type, id: d.properties.messageId ?? "-", reason: nil)
            return
        }
        var reason: String?
        if code == 2, let json = try? JSONParser.parse(d.body), case .array(let errors)? = json.objectValue?["errors"] {
            reason = errors.compactMap { e -> String? in
                if case .string(let c)? = e.objectValue?["code"] { return c }
                return nil
            }.sorted().joined(separator: ",")
        }
        state.outcome(seq: seq, code: code, type: type, id: d.properties.messageId ?? "-", reason: reason)
    }
}
