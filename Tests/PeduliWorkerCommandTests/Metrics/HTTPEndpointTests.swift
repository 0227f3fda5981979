import Foundation
import Logging
import PeduliWorker
import Prometheus
import Testing

@testable import PeduliWorkerCommand

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking loopback client: sends bytes, then reads until the server closes (or a timeout).
enum LoopbackClient {
    static func exchange(port: UInt16, send bytes: [UInt8], closeAfterSend: Bool = false, timeout: Int = 5) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if !bytes.isEmpty {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        if closeAfterSend { return "" }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }

    static func get(_ path: String, port: UInt16, method: String = "GET") -> String? {
        exchange(port: port, send: Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
    }
}

@Suite("Metrics HTTP: endpoint over loopback", .serialized)
struct HTTPEndpointTests {
    func makeEndpoint(
        limits: HTTPEndpoint.Limits = .init()
    ) throws -> (HTTPEndpoint, HealthState, PrometheusCollectorRegistry) {
        let registry = PrometheusCollectorRegistry()
        let health = HealthState()
        let endpoint = try HTTPEndpoint(
            host: "127.0.0.1", port: 0, limits: limits,
            handler: MetricsRoutes.handler(registry: registry, health: health))
        endpoint.start()
        return (endpoint, health, registry)
    }

    @Test("/metrics, /healthz, /readyz (503 then 200), 404, 405 and HEAD")
    func routes() async throws {
        let (endpoint, health, registry) = try makeEndpoint()
        PrometheusMetricsFactory(registry: registry).makeCounter(label: "peduli_test_total", dimensions: []).increment(
            by: 3)

        let metrics = try #require(LoopbackClient.get("/metrics", port: endpoint.port))
        #expect(metrics.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(metrics.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(metrics.contains("\r\n\r\n# TYPE peduli_test_total counter\npeduli_test_total 3\n"))

        let healthz = try #require(LoopbackClient.get("/healthz", port: endpoint.port))
        #expect(healthz.hasPrefix("HTTP/1.1 200 OK\r\n") && healthz.hasSuffix("\r\n\r\nok\n"))

        health.setAMQPConnected(true)
        health.setConsuming(true)
        let notReady = try #require(LoopbackClient.get("/readyz", port: endpoint.port))
        #expect(notReady.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(notReady.hasSuffix("not ready: amqp=up database=down consuming=yes\n"))
        health.setDatabaseConnected(true)
        let ready = try #require(LoopbackClient.get("/readyz?x=1", port: endpoint.port))
        #expect(ready.hasPrefix("HTTP/1.1 200 OK\r\n") && ready.hasSuffix("\r\n\r\nready\n"))

        #expect(LoopbackClient.get("/nope", port: endpoint.port)?.hasPrefix("HTTP/1.1 404 Not Found\r\n") == true)
        let post = try #require(LoopbackClient.get("/metrics", port: endpoint.port, method: "POST"))
        #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n") && post.contains("Allow: GET, HEAD\r\n"))
        let head = try #require(LoopbackClient.get("/healthz", port: endpoint.port, method: "HEAD"))
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.hasSuffix("Connection: close\r\n\r\n"))
        await endpoint.stop()
    }

    @Test("garbage, oversized, truncated and silent clients get an answer or are dropped; the endpoint keeps serving")
    func survivesGarbage() async throws {
        let (endpoint, _, _) = try makeEndpoint(
            limits: .init(maxRequestBytes: 1024, requestTimeout: .milliseconds(300)))
        let garbage = try #require(LoopbackClient.exchange(port: endpoint.port, send: [0xFF, 0x00, 0x0A, 0x0A, 0x13]))
        #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let bytes = (0..<Int.random(in: 1...600, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            _ = LoopbackClient.exchange(port: endpoint.port, send: bytes + [0x0A, 0x0A])
        }
        let oversized = try #require(
            LoopbackClient.exchange(port: endpoint.port, send: Array(repeating: UInt8(ascii: "A"), count: 4000)))
        #expect(oversized.hasPrefix("HTTP/1.1 431 "))
        let silent = try #require(
            LoopbackClient.exchange(port: endpoint.port, send: Array("GET /metrics HTTP/1.1\r\n".utf8)))
        #expect(silent.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        _ = LoopbackClient.exchange(port: endpoint.port, send: Array("GET /met".utf8), closeAfterSend: true)
        _ = LoopbackClient.exchange(port: endpoint.port, send: [], closeAfterSend: true)
        let after = try #require(LoopbackClient.get("/healthz", port: endpoint.port))
        #expect(after.hasPrefix("HTTP/1.1 200 OK\r\n"))
        await endpoint.stop()
    }

    @Test("after stop the port no longer accepts connections; stop is idempotent")
    func stops() async throws {
        let (endpoint, _, _) = try makeEndpoint()
        let port = endpoint.port
        #expect(LoopbackClient.get("/healthz", port: port) != nil)
        await endpoint.stop()
        await endpoint.stop()
        #expect(LoopbackClient.get("/healthz", port: port) == nil)
    }

    @Test("an address in use or unresolvable is a start-up error naming it")
    func bindErrors() throws {
        let (endpoint, _, _) = try makeEndpoint()
        #expect {
            _ = try HTTPEndpoint(host: "127.0.0.1", port: endpoint.port) { _ in .error(404) }
        } throws: { error in
            (error as? HTTPEndpointError)?.code == "bind_failed"
                && "\(error)".contains("127.0.0.1:\(endpoint.port)")
        }
        #expect {
            _ = try HTTPEndpoint(host: "not an address", port: 0) { _ in .error(404) }
        } throws: { error in
            (error as? HTTPEndpointError)?.code == "address_unresolved"
        }
        Task { await endpoint.stop() }
    }

    @Test("the service serves until cancelled, then releases the port")
    func service() async throws {
        let probe = try HTTPEndpoint(host: "127.0.0.1", port: 0) { _ in .error(404) }
        let port = probe.port
        await probe.stop()
        let service = MetricsEndpointService(
            host: "127.0.0.1", port: port, registry: PrometheusCollectorRegistry(), health: HealthState(),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await service.run() }
        var answer: String?
        for _ in 0..<50 where answer == nil {
            try await Task.sleep(for: .milliseconds(20))
            answer = LoopbackClient.get("/healthz", port: port)
        }
        #expect(answer?.hasPrefix("HTTP/1.1 200 OK") == true)
        task.cancel()
        try await task.value
        #expect(LoopbackClient.get("/healthz", port: port) == nil)
    }
}
