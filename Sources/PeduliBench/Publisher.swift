import AMQPClient
import Foundation

/// Publishes with publisher confirms over a sliding window, and survives a broker restart: on any
/// connection error it reconnects and republishes every message not yet confirmed (same
/// message_id, so the worker's idempotency absorbs the copies).
final class ConfirmingPublisher {
    let configuration: AMQPConfiguration
    let window: Int
    let reconnectTimeout: Duration
    private var connection: AMQPConnection?
    private var outstanding:
        [(sequence: UInt64, exchange: String, key: String, body: [UInt8], properties: AMQPProperties)] = []
    private(set) var reconnects = 0
    private(set) var republished = 0

    init(configuration: AMQPConfiguration, window: Int, reconnectTimeout: Duration = .seconds(300)) {
        self.configuration = configuration
        self.window = window
        self.reconnectTimeout = reconnectTimeout
    }

    private func connect() throws -> AMQPConnection {
        if let connection, connection.isOpen { return connection }
        connection?.close()
        connection = nil
        let clock = ContinuousClock()
        let deadline = clock.now + reconnectTimeout
        while true {
            do {
                let c = try AMQPConnection(configuration: configuration)
                try c.confirmSelect()
                connection = c
                return c
            } catch {
                if clock.now > deadline { throw error }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    func publish(exchange: String, routingKey: String, body: [UInt8], properties: AMQPProperties) throws {
        while true {
            do {
                let c = try connect()
                let seq = try c.publish(exchange: exchange, routingKey: routingKey, body: body, properties: properties)
                outstanding.append((seq, exchange, routingKey, body, properties))
                if outstanding.count >= window { try settle(keep: window / 2) }
                return
            } catch {
                try recover()
            }
        }
    }

    /// Waits until at most `keep` publishes are unconfirmed; republishes nacked ones.
    private func settle(keep: Int) throws {
        guard let c = connection, outstanding.count > keep else { return }
        let upTo = outstanding[outstanding.count - keep - 1].sequence
        let nacked = Set(try c.waitForConfirms(upTo: upTo, timeout: .seconds(60)))
        let done = outstanding.prefix { $0.sequence <= upTo }
        outstanding.removeFirst(done.count)
        for m in done where nacked.contains(m.sequence) {
            let seq = try c.publish(exchange: m.exchange, routingKey: m.key, body: m.body, properties: m.properties)
            outstanding.append((seq, m.exchange, m.key, m.body, m.properties))
            republished += 1
        }
    }

    private func recover() throws {
        connection?.close()
        connection = nil
        reconnects += 1
        let pending = outstanding
        outstanding = []
        let clock = ContinuousClock()
        let deadline = clock.now + reconnectTimeout
        while true {
            do {
                let c = try connect()
                for m in pending {
                    let seq = try c.publish(
                        exchange: m.exchange, routingKey: m.key, body: m.body, properties: m.properties)
                    outstanding.append((seq, m.exchange, m.key, m.body, m.properties))
                }
                republished += pending.count
                return
            } catch {
                connection?.close()
                connection = nil
                outstanding = []
                if clock.now > deadline { throw error }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    /// Waits until everything published is confirmed.
    func flush() throws {
        while true {
            do {
                try settle(keep: 0)
                return
            } catch {
                try recover()
            }
        }
    }

    func close() {
        connection?.close()
        connection = nil
    }
}
