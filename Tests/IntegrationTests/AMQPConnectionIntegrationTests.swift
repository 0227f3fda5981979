import AMQPClient
import Foundation
import PeduliTestSupport
import Testing

extension AMQPIntegrationTests {
    @Suite struct Connection {
        @Test func tenThousandPersistentMessagesRoundTripExactlyOnce() async throws {
            let config = try AMQPTestEnvironment.configuration()
            let queue = AMQPTestEnvironment.uniqueName("roundtrip")
            let total = 10_000
            try await onOwnThread {
                let publisher = try AMQPConnection(configuration: config)
                defer { publisher.close() }
                try publisher.declareQueue(name: queue, durable: true, arguments: ["x-queue-type": .string("classic")])
                try publisher.confirmSelect()
                var lastSequence: UInt64 = 0
                for i in 0..<total {
                    lastSequence = try publisher.publish(
                        exchange: "", routingKey: queue, body: Array("message \(i)".utf8),
                        properties: AMQPProperties(
                            deliveryMode: AMQPProperties.persistentDeliveryMode, messageId: "\(i)"))
                    #expect(lastSequence == UInt64(i + 1))
                    if i % 1000 == 999 { #expect(try publisher.waitForConfirms(timeout: .seconds(60)) == []) }
                }
                #expect(try publisher.waitForConfirms(upTo: lastSequence, timeout: .seconds(60)) == [])
                #expect(publisher.unconfirmedCount == 0)
                #expect(try publisher.declareQueue(name: queue, passive: true).messageCount == UInt32(total))

                let consumer = try AMQPConnection(configuration: config)
                try consumer.qos(prefetchCount: 200)
                let tag = try consumer.consume(queue: queue)
                var seen = Set<String>()
                var duplicates = 0
                var unacked = 0
                var lastTag: UInt64 = 0
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(120)
                while seen.count < total, clock.now < deadline {
                    guard case .delivery(let d)? = try consumer.nextEvent(timeout: .seconds(1)) else { continue }
                    #expect(d.consumerTag == tag)
                    #expect(!d.redelivered)
                    #expect(d.properties.deliveryMode == 2)
                    #expect(String(decoding: d.body, as: UTF8.self) == "message \(d.properties.messageId ?? "?")")
                    if !seen.insert(d.properties.messageId ?? "").inserted { duplicates += 1 }
                    lastTag = d.deliveryTag
                    unacked += 1
                    if unacked == 50 {
                        try consumer.ack(deliveryTag: lastTag, multiple: true)
                        unacked = 0
                    }
                }
                if unacked > 0 { try consumer.ack(deliveryTag: lastTag, multiple: true) }
                #expect(seen.count == total)
                #expect(duplicates == 0)
                // Nothing more arrives.
                #expect(try consumer.nextEvent(timeout: .milliseconds(500)) == nil)
                try consumer.cancel(consumerTag: tag)
                consumer.close()
                // Every message acked: none back to ready once the consumer is gone.
                let after = try publisher.declareQueue(name: queue, passive: true)
                #expect(after.messageCount == 0)
                #expect(after.consumerCount == 0)
                try publisher.deleteQueue(name: queue)
            }
        }

        @Test func propertiesAndHeadersRoundTripExactly() async throws {
            let config = try AMQPTestEnvironment.configuration()
            let queue = AMQPTestEnvironment.uniqueName("props")
            let user = config.endpoints[0].user
            try await onOwnThread {
                let connection = try AMQPConnection(configuration: config)
                defer { connection.close() }
                try connection.declareQueue(name: queue, durable: false, autoDelete: false)
                let headers: AMQPTable = [
                    "unicode": .string("Pekerja rentan — ꦱꦼꦩꦫꦁ 😀"),
                    "i8": .int8(.min), "i16": .int16(.max), "i32-min": .int32(.min), "i32-max": .int32(.max),
                    "i64-min": .int64(.min), "i64-max": .int64(.max),
                    "u8": .uint8(.max), "u16": .uint16(.max), "u32": .uint32(.max),
                    "bool": .bool(true), "float": .float(1.25), "double": .double(-2.5e300),
                    "decimal": .decimal(scale: 3, value: 123_456), "timestamp": .timestamp(1_764_043_200),
                    "bytes": .bytes([0, 1, 254, 255]), "void": .void,
                    "nested": .table(["level2": .table(["level3": .array([.int32(1), .string("dua"), .table([:])])])]),
                    "empty-array": .array([]),
                ]
                let properties = AMQPProperties(
                    contentType: "application/json; charset=utf-8", contentEncoding: "identity", headers: headers,
                    deliveryMode: 2, priority: 7, correlationId: "corr-ü", replyTo: "reply.queue", expiration: "600000",
                    messageId: "msg-\(queue)", timestamp: 1_764_043_200, type: "registration.submit", userId: user,
                    appId: "portal-test", clusterId: "")
                let body = (0...255).map { UInt8($0) } + Array("{\"nama\":\"Siti\"}".utf8)
                try connection.publish(exchange: "", routingKey: queue, body: body, properties: properties)
                _ = try connection.consume(queue: queue, noAck: true)
                let events = try connection.events(within: .seconds(10)) { !$0.isEmpty }
                guard case .delivery(let delivery)? = events.first else {
                    Issue.record("no delivery: \(events)")
                    return
                }
                #expect(delivery.properties == properties)
                #expect(delivery.properties.headers?.keys == headers.keys)
                #expect(delivery.body == body)
                #expect(delivery.routingKey == queue)
                #expect(delivery.exchange == "")
                try connection.deleteQueue(name: queue)
            }
        }

        @Test func unroutableMandatoryPublishIsReturnedThenAcked() async throws {
            let config = try AMQPTestEnvironment.configuration()
            let key = AMQPTestEnvironment.uniqueName("nowhere")
            try await onOwnThread {
                let connection = try AMQPConnection(configuration: config)
                defer { connection.close() }
                try connection.confirmSelect()
                let seq = try connection.publish(
                    exchange: "amq.direct", routingKey: key, body: Array("lost".utf8),
                    properties: AMQPProperties(messageId: "m1"), mandatory: true)
                #expect(seq == 1)
                let events = try connection.events(within: .seconds(10)) { $0.count >= 2 }
                #expect(events.count == 2)
                guard case .returned(let returned)? = events.first else {
                    Issue.record("expected basic.return first, got \(events)")
                    return
                }
                #expect(returned.replyCode == 312)
                #expect(returned.replyText == "NO_ROUTE")
                #expect(returned.exchange == "amq.direct")
                #expect(returned.routingKey == key)
                #expect(returned.body == Array("lost".utf8))
                #expect(returned.properties.messageId == "m1")
                #expect(events.last == .confirm(AMQPConfirm(deliveryTag: 1, multiple: false, ack: true)))
                #expect(connection.unconfirmedCount == 0)
            }
        }

        @Test func rejectedPublishIsNacked() async throws {
            let config = try AMQPTestEnvironment.configuration()
            let queue = AMQPTestEnvironment.uniqueName("full")
            try await onOwnThread {
                let connection = try AMQPConnection(configuration: config)
                defer { connection.close() }
                try connection.declareQueue(
                    name: queue, durable: false,
                    arguments: ["x-max-length": .int32(1), "x-overflow": .string("reject-publish")])
                try connection.confirmSelect()
                let first = try connection.publish(exchange: "", routingKey: queue, body: [1])
                let second = try connection.publish(exchange: "", routingKey: queue, body: [2])
                let third = try connection.publish(exchange: "", routingKey: queue, body: [3])
                #expect([first, second, third] == [1, 2, 3])
                #expect(try connection.waitForConfirms(timeout: .seconds(10)) == [2, 3])
                // Reported once only.
                #expect(try connection.waitForConfirms(timeout: .seconds(1)) == [])
                try connection.deleteQueue(name: queue)
            }
        }

        @Test func queueDeletedUnderAConsumerIsNoticed() async throws {
            let config = try AMQPTestEnvironment.configuration()
            let queue = AMQPTestEnvironment.uniqueName("deleted")
            try await onOwnThread {
                let consumer = try AMQPConnection(configuration: config)
                defer { consumer.close() }
                let admin = try AMQPConnection(configuration: config)
                defer { admin.close() }
                try consumer.declareQueue(name: queue, durable: false)
                let tag = try consumer.consume(queue: queue, consumerTag: "ctag-\(queue)")
                #expect(tag == "ctag-\(queue)")
                #expect(try consumer.nextEvent(timeout: .milliseconds(200)) == nil)
                try admin.deleteQueue(name: queue)
                let events = try consumer.events(within: .seconds(10)) { !$0.isEmpty }
                #expect(events == [.consumerCancelled(consumerTag: tag)])
                // The connection itself is still fine.
                #expect(consumer.isOpen)
                #expect(try consumer.nextEvent(timeout: .milliseconds(100)) == nil)
            }
        }

        @Test func redeclaringWithOtherArgumentsNamesTheQueue() async throws {
            let config = try AMQPTestEnvironment.configuration()
            let queue = AMQPTestEnvironment.uniqueName("inequivalent")
            try await onOwnThread {
                let connection = try AMQPConnection(configuration: config)
                defer { connection.close() }
                try connection.declareQueue(name: queue, durable: true, arguments: ["x-max-length": .int32(10)])
                // Same arguments again: idempotent.
                try connection.declareQueue(name: queue, durable: true, arguments: ["x-max-length": .int32(10)])
                let error = #expect(throws: AMQPError.self) {
                    try connection.declareQueue(name: queue, durable: true, arguments: ["x-max-length": .int32(20)])
                }
                #expect(error?.code == .preconditionFailed)
                #expect(error?.replyCode == 406)
                #expect(error?.replyText?.contains(queue) == true, "\(String(describing: error))")
                #expect(error?.replyText?.contains("x-max-length") == true)
                #expect(error.map { "\($0)".contains(queue) } == true)
                #expect(error?.isConnectionLost == false)
                // The channel is gone until reopened; the connection is not.
                #expect(throws: AMQPError.self) { try connection.declareQueue(name: queue, passive: true) }
                try connection.reopenChannel()
                #expect(try connection.declareQueue(name: queue, passive: true).messageCount == 0)
                let missing = #expect(throws: AMQPError.self) {
                    try connection.declareQueue(name: queue + ".missing", passive: true)
                }
                #expect(missing?.code == .notFound)
                try connection.reopenChannel()
                try connection.deleteQueue(name: queue)
            }
        }

        @Test func wrongPasswordIsAnAuthenticationFailureWithoutThePassword() async throws {
            var config = try AMQPTestEnvironment.configuration()
            config.endpoints[0].password = "wrong-Pa55word-xyz"
            let badConfig = config
            let error = try await onOwnThread { () -> AMQPError? in
                do {
                    _ = try AMQPConnection(configuration: badConfig)
                    return nil
                } catch let error as AMQPError {
                    return error
                }
            }
            #expect(error?.code == .authenticationFailed)
            #expect(error.map { "\($0)".contains("wrong-Pa55word-xyz") } == false)
        }

        @Test func deadNodeIsSkippedInAClusterList() async throws {
            let good = try AMQPTestEnvironment.configuration()
            var dead = good.endpoints[0]
            dead.port = 1  // nothing listens there
            var config = good
            config.endpoints = [dead, good.endpoints[0]]
            let cluster = config
            let index = try await onOwnThread {
                let connection = try AMQPConnection(configuration: cluster)
                defer { connection.close() }
                return connection.endpointIndex
            }
            #expect(index == 1)
            config.endpoints = [dead]
            let deadOnly = config
            let error = try await onOwnThread { () -> AMQPError? in
                do { _ = try AMQPConnection(configuration: deadOnly); return nil } catch let e as AMQPError { return e }
            }
            #expect(error?.code == .connectionFailed)
            #expect(error?.isConnectionLost == true)
        }
    }
}
