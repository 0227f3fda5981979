import Testing

@testable import PeduliWorkerCommand

@Suite("Metrics HTTP: request parsing")
struct HTTPRequestHeadTests {
    @Test(
        "request heads",
        arguments: [
            ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTPRequestHead.request(method: "GET", path: "/metrics")),
            ("GET /readyz?verbose=1 HTTP/1.0\r\n\r\n", .request(method: "GET", path: "/readyz")),
            ("HEAD /healthz HTTP/1.1\n\n", .request(method: "HEAD", path: "/healthz")),
            ("POST /metrics HTTP/1.1\r\n\r\n", .request(method: "POST", path: "/metrics")),
            ("GET /metrics HTTP/1.1\r\nHost: x\r\n", .incomplete),
            ("", .incomplete),
            ("GET /metrics HTTP/2.0\r\n\r\n", .invalid(status: 505)),
            ("GET /metrics\r\n\r\n", .invalid(status: 400)),
            ("GET  /metrics HTTP/1.1\r\n\r\n", .invalid(status: 400)),
            ("get /metrics HTTP/1.1\r\n\r\n", .invalid(status: 400)),
            ("GET metrics HTTP/1.1\r\n\r\n", .invalid(status: 400)),
            ("GET http://x/metrics HTTP/1.1\r\n\r\n", .invalid(status: 400)),
            ("\r\n\r\n", .invalid(status: 400)),
            ("\u{1}\u{2}\u{3}\n\n", .invalid(status: 400)),
            ("GET /m\u{7F} HTTP/1.1\r\n\r\n", .invalid(status: 400)),
        ])
    func parse(text: String, expected: HTTPRequestHead) {
        #expect(HTTPRequestHead.parse(Array(text.utf8)) == expected)
    }

    @Test("bytes that are not UTF-8 get an answer, not a crash")
    func binary() {
        #expect(HTTPRequestHead.parse([0xFF, 0xFE, 0x0A, 0x0A]) == .invalid(status: 400))
        #expect(
            HTTPRequestHead.parse([0x47, 0x45, 0x54, 0x20, 0x2F, 0xC3, 0x28, 0x20] + Array("HTTP/1.1\n\n".utf8))
                == .invalid(status: 400))
    }

    @Test("a response announces its length and closes; HEAD leaves out the body")
    func serialization() {
        let response = HTTPResponse(status: 503, body: "not ready\n")
        let text = String(decoding: response.serialized(includeBody: true), as: UTF8.self)
        #expect(
            text
                == "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\nCache-Control: no-store\r\nConnection: close\r\n\r\nnot ready\n"
        )
        let head = String(decoding: response.serialized(includeBody: false), as: UTF8.self)
        #expect(head.hasSuffix("Content-Length: 10\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"))
    }
}
