/// The part of an HTTP/1.x request the metrics endpoint looks at, parsed without I/O so that any
/// byte sequence a client sends has a defined answer.
enum HTTPRequestHead: Equatable, Sendable {
    /// More bytes are needed (no blank line yet).
    case incomplete
    case request(method: String, path: String)
    /// Answer with this status and close.
    case invalid(status: Int)

    /// Parses the request line once the head (up to the first empty line) is complete. Accepts
    /// `\r\n` or bare `\n` line ends; the headers themselves are not interpreted.
    static func parse(_ bytes: [UInt8]) -> HTTPRequestHead {
        guard let headEnd = endOfHead(bytes) else { return .incomplete }
        guard let lineEnd = bytes[..<headEnd].firstIndex(of: UInt8(ascii: "\n")) else { return .invalid(status: 400) }
        var line = bytes[..<lineEnd]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .invalid(status: 400) }
        let method = parts[0], target = parts[1], version = parts[2]
        guard !method.isEmpty, method.count <= 16,
            method.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
        else { return .invalid(status: 400) }
        guard Array(version) == Array("HTTP/1.1".utf8) || Array(version) == Array("HTTP/1.0".utf8) else {
            return .invalid(status: version.starts(with: Array("HTTP/".utf8)) ? 505 : 400)
        }
        guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .invalid(status: 400)
        }
        let pathBytes = target.prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        return .request(
            method: String(decoding: method, as: UTF8.self), path: String(decoding: pathBytes, as: UTF8.self))
    }

    /// The index just past the empty line that ends the head, if present.
    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                let next = index + 1
                if next < bytes.count, bytes[next] == UInt8(ascii: "\n") { return next + 1 }
                if next + 1 < bytes.count, bytes[next] == UInt8(ascii: "\r"), bytes[next + 1] == UInt8(ascii: "\n") {
                    return next + 2
                }
            }
            index += 1
        }
        return nil
    }
}

/// A complete answer: the endpoint always closes the connection after it.
struct HTTPResponse: Sendable, Equatable {
    var status: Int
    var contentType: String = "text/plain; charset=utf-8"
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []

    init(
        status: Int, contentType: String = "text/plain; charset=utf-8", body: String,
        extraHeaders: [(String, String)] = []
    ) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
        self.extraHeaders = extraHeaders
    }

    static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.extraHeaders.map { "\($0.0):\($0.1)" } == rhs.extraHeaders.map { "\($0.0):\($0.1)" }
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }

    static func error(_ status: Int) -> HTTPResponse {
        HTTPResponse(status: status, body: reason(status).lowercased() + "\n")
    }

    /// The bytes on the wire; `includeBody` false for HEAD (the length is still announced).
    func serialized(includeBody: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        head += "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }
}
