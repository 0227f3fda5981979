internal import PeduliBase

/// One broker node to connect to, parsed from an `amqp://` or `amqps://` URL.
///
/// Parsing follows the RabbitMQ URI specification, with one deliberate exception: an empty path
/// *and* a lone `/` both select the default vhost `/` (the specification maps `amqp://host/` to the
/// empty vhost, which RabbitMQ never uses and which would make a trailing slash a silent error).
/// The password is kept out of `description`, `debugDescription` and reflection so that an
/// endpoint can be logged or put into an error as is.
public struct AMQPEndpoint: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var useTLS: Bool
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    /// The URL's query parameters that librabbitmq can honour; each overrides the configuration's value for
    /// this node.
    public var options: AMQPURIOptions = .init()

    public static let defaultPort = 5672
    public static let defaultTLSPort = 5671

    public init(
        useTLS: Bool = false, host: String = "localhost", port: Int? = nil, user: String = "guest",
        password: String = "guest", vhost: String = "/"
    ) {
        self.useTLS = useTLS
        self.host = host
        self.port = port ?? (useTLS ? Self.defaultTLSPort : Self.defaultPort)
        self.user = user
        self.password = password
        self.vhost = vhost
    }

    /// Parses one URL. Throws `AMQPError` with code `.invalidURL`; the error never repeats the URL
    /// itself because it may hold a password.
    public init(url: String) throws {
        self = try AMQPURLParser.parse(url)
    }

    /// The URL with the password replaced by `***`: safe for logs and errors.
    public var redacted: String {
        let scheme = useTLS ? "amqps" : "amqp"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let vhostPart = vhost == "/" ? "" : AMQPURLParser.percentEncode(vhost)
        return "\(scheme)://\(AMQPURLParser.percentEncode(user)):***@\(hostPart):\(port)/\(vhostPart)" + options.query
    }

    public var description: String { redacted }
    public var debugDescription: String { "AMQPEndpoint(\(redacted))" }
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "useTLS": useTLS, "host": host, "port": port, "user": user,
                "password": "***", "vhost": vhost, "options": options,
            ])
    }
}

/// The query parameters of RabbitMQ's URI specification that librabbitmq 0.11 can honour: `heartbeat`
/// (seconds), `connection_timeout` (milliseconds), `channel_max` and `frame_max`. The others
/// (`auth_mechanism`, the TLS file and verification parameters, ...) are refused by the parser with a message
/// saying so, rather than ignored.
public struct AMQPURIOptions: Sendable, Equatable {
    public var heartbeatSeconds: Int?
    public var connectTimeout: Duration?
    public var channelMax: Int?
    public var frameMax: Int?

    public init(
        heartbeatSeconds: Int? = nil, connectTimeout: Duration? = nil, channelMax: Int? = nil, frameMax: Int? = nil
    ) {
        self.heartbeatSeconds = heartbeatSeconds
        self.connectTimeout = connectTimeout
        self.channelMax = channelMax
        self.frameMax = frameMax
    }

    /// `?heartbeat=10&...` as parsed, empty when none was given.
    public var query: String {
        var items: [String] = []
        if let heartbeatSeconds { items.append("heartbeat=\(heartbeatSeconds)") }
        if let connectTimeout {
            items.append(
                "connection_timeout=\(connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000)"
            )
        }
        if let channelMax { items.append("channel_max=\(channelMax)") }
        if let frameMax { items.append("frame_max=\(frameMax)") }
        return items.isEmpty ? "" : "?" + items.joined(separator: "&")
    }
}

/// TLS settings for `amqps://` endpoints. librabbitmq 0.11 loads no system CA store, so peer
/// verification needs `caFile`; TLS 1.2 is always the minimum.
public struct AMQPTLSOptions: Sendable, Equatable {
    /// PEM file with the CA certificates that may sign the broker's certificate.
    public var caFile: String?
    /// PEM client certificate and key, for brokers that require mutual TLS (both or neither).
    public var certificateFile: String?
    public var keyFile: String?
    /// Verify the broker's certificate chain (default true).
    public var verifyPeer: Bool
    /// Verify that the certificate names the host we dialled (default true).
    public var verifyHostname: Bool

    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        verifyPeer: Bool = true, verifyHostname: Bool = true
    ) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.verifyPeer = verifyPeer
        self.verifyHostname = verifyHostname
    }
}

/// Everything needed to open an `AMQPConnection`. A value type so the daemon can build it once
/// from its configuration and hand it to each connection thread.
public struct AMQPConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Cluster nodes, tried in order; the first that answers wins. Never empty.
    public var endpoints: [AMQPEndpoint]
    /// Requested heartbeat interval in seconds (default 30; 0 disables, which is never wise:
    /// without heartbeats a half-open TCP connection is noticed only by the kernel, hours later).
    public var heartbeatSeconds: Int
    /// Shown in the RabbitMQ management UI and `rabbitmqctl list_connections` (default "peduli-worker").
    public var connectionName: String
    /// Product name sent in the client properties (default "peduli-worker").
    public var product: String
    /// The application's version sent in the client properties (`version`; librabbitmq would put its own
    /// there otherwise). The worker sends its package version and commit, `0.14.0 (3731dd2)`.
    public var version: String
    /// TCP/TLS connect and AMQP handshake deadline per node (default 10 s).
    public var connectTimeout: Duration
    /// Deadline for each synchronous method (declare, consume, close, ...) (default 30 s), so a
    /// stalled broker surfaces as an error instead of a hang.
    public var rpcTimeout: Duration
    /// Largest frame we accept (default 131072, RabbitMQ's default).
    public var frameMax: Int
    public var tls: AMQPTLSOptions
    /// What an inbound delivery's headers may hold to be kept (`AMQPDelivery.headersDropped` otherwise).
    public var headerLimits: AMQPHeaderLimits = .contract

    /// Stack for a thread that reads from a connection (`nextEvent`, `waitForConfirms`). librabbitmq 0.11
    /// decodes a content header's tables recursively with no depth limit, about 110 bytes of stack a level
    /// (measured) and at least 5 bytes of frame a level (an array in an array), so a header that fits the
    /// frame nests at most `frameMax / 5` levels: 26,214 at the default, 2.9 MB. 32 bytes of stack per byte of
    /// frame covers that with room, plus 8 MiB for everything else. Virtual memory: only the pages a deep
    /// header touches become resident.
    public var threadStackSize: Int {
        8 << 20 + 32 * max(endpoints.compactMap(\.options.frameMax).max() ?? 0, frameMax, 131_072)
    }

    public init(
        endpoints: [AMQPEndpoint], heartbeatSeconds: Int = 30, connectionName: String = "peduli-worker",
        product: String = "peduli-worker", version: String = "unknown", connectTimeout: Duration = .seconds(10),
        rpcTimeout: Duration = .seconds(30), frameMax: Int = 131_072, tls: AMQPTLSOptions = .init()
    ) {
        self.endpoints = endpoints
        self.heartbeatSeconds = heartbeatSeconds
        self.connectionName = connectionName
        self.product = product
        self.version = version
        self.connectTimeout = connectTimeout
        self.rpcTimeout = rpcTimeout
        self.frameMax = frameMax
        self.tls = tls
    }

    /// Parses `url`: one URL or a comma-separated list of URLs (cluster nodes, tried in order).
    public init(
        url: String, heartbeatSeconds: Int = 30, connectionName: String = "peduli-worker",
        product: String = "peduli-worker", version: String = "unknown", connectTimeout: Duration = .seconds(10),
        rpcTimeout: Duration = .seconds(30), frameMax: Int = 131_072, tls: AMQPTLSOptions = .init()
    ) throws {
        let endpoints = try AMQPURLParser.parseList(url)
        self.init(
            endpoints: endpoints, heartbeatSeconds: heartbeatSeconds, connectionName: connectionName,
            product: product, version: version, connectTimeout: connectTimeout, rpcTimeout: rpcTimeout,
            frameMax: frameMax,
            tls: tls)
    }

    /// All endpoints, redacted, comma-separated.
    public var redacted: String { endpoints.map(\.redacted).joined(separator: ",") }
    public var description: String {
        "AMQPConfiguration(\(redacted), heartbeat: \(heartbeatSeconds)s, name: \(connectionName))"
    }
}

/// The RabbitMQ URI rules in one place (https://www.rabbitmq.com/docs/uri-spec).
enum AMQPURLParser {
    static func parseList(_ text: String) throws -> [AMQPEndpoint] {
        let parts = URLList.split(text)
        var endpoints: [AMQPEndpoint] = []
        for (index, part) in parts.enumerated() {
            let trimmed = part
            do {
                endpoints.append(try parse(trimmed))
            } catch var error as AMQPError {
                if parts.count > 1 { error.detail = "URL #\(index + 1) of \(parts.count): " + (error.detail ?? "") }
                throw error
            }
        }
        return endpoints
    }

    static func parse(_ text: String) throws -> AMQPEndpoint {
        func fail(_ why: String) -> AMQPError {
            AMQPError(code: .invalidURL, operation: "parse URL", detail: why)
        }
        if text.isEmpty { throw fail("empty URL") }
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw fail("missing scheme (expected amqp:// or amqps://)")
        }
        let useTLS: Bool
        switch text[..<schemeEnd.lowerBound].lowercased() {
        case "amqp": useTLS = false
        case "amqps": useTLS = true
        default: throw fail("unsupported scheme (expected amqp or amqps)")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        if rest.contains("#") { throw fail("fragments (#) are not allowed") }
        var options = AMQPURIOptions()
        if let question = rest.firstIndex(of: "?") {
            options = try parseQuery(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        if rest.contains(where: { $0 == " " || $0.isNewline }) { throw fail("unencoded whitespace") }

        // Split authority and path.
        var path: Substring? = nil
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var authority = rest
        var user = "guest"
        var password = "guest"
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                user = try decode(userinfo[..<colon], what: "user name")
                password = try decode(userinfo[userinfo.index(after: colon)...], what: "password")
            } else {
                user = try decode(userinfo, what: "user name")
            }
        }
        var host: String
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
            if host.isEmpty { throw fail("empty IPv6 address") }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                portText = authority[authority.index(after: colon)...]
                authority = authority[..<colon]
            }
            host = try decode(authority, what: "host")
        }
        if host.isEmpty { host = "localhost" }
        var port: Int? = nil
        if let portText, !portText.isEmpty {
            guard portText.allSatisfy(\.isASCIIDigit), portText.count <= 5, let value = Int(portText),
                (1...65535).contains(value)
            else { throw fail("invalid port (expected 1-65535)") }
            port = value
        }
        var vhost = "/"
        if let path, !path.isEmpty {
            if path.contains("/") { throw fail("the vhost must be one path segment (encode '/' as %2F)") }
            vhost = try decode(path, what: "vhost")
        }
        var endpoint = AMQPEndpoint(
            useTLS: useTLS, host: host, port: port, user: user, password: password, vhost: vhost)
        endpoint.options = options
        return endpoint
    }

    /// The parameters librabbitmq can honour; every other one is refused by name (a value is never repeated:
    /// the query may follow a password in the same string).
    static func parseQuery(_ query: Substring) throws -> AMQPURIOptions {
        func fail(_ why: String) -> AMQPError { AMQPError(code: .invalidURL, operation: "parse URL", detail: why) }
        var options = AMQPURIOptions()
        var seen: Set<String> = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(pair[0], what: "query parameter name")
            let text = pair.count == 2 ? try decode(pair[1], what: "query parameter \(name)") : ""
            guard seen.insert(name).inserted else { throw fail("query parameter \(name) is given twice") }
            func number(_ range: ClosedRange<Int>, _ unit: String) throws -> Int {
                guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), text.count <= 10, let value = Int(text),
                    range.contains(value)
                else {
                    throw fail(
                        "query parameter \(name) must be \(unit) from \(range.lowerBound) to \(range.upperBound)")
                }
                return value
            }
            switch name {
            case "heartbeat": options.heartbeatSeconds = try number(0...65_535, "whole seconds")
            case "connection_timeout": options.connectTimeout = .milliseconds(try number(1...3_600_000, "milliseconds"))
            case "channel_max": options.channelMax = try number(0...65_535, "a channel count")
            case "frame_max": options.frameMax = try number(4_096...2_147_483_647, "bytes")
            case "cacertfile", "certfile", "keyfile", "verify", "server_name_indication", "fail_if_no_peer_cert",
                "depth":
                throw fail(
                    "query parameter \(name) is not supported: TLS is set with the amqp.tls.* keys "
                        + "(librabbitmq honours heartbeat, connection_timeout, channel_max and frame_max)")
            default:
                throw fail(
                    "query parameter \(name) is not supported (librabbitmq honours heartbeat, connection_timeout, "
                        + "channel_max and frame_max)")
            }
        }
        return options
    }

    /// Percent-decodes one URL component; rejects malformed escapes, NUL and invalid UTF-8.
    static func decode(_ text: Substring, what: String) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2, let high = Hex.value(iterator.popFirst()!),
                    let low = Hex.value(iterator.popFirst()!)
                else {
                    throw AMQPError(
                        code: .invalidURL, operation: "parse URL", detail: "malformed percent-escape in the \(what)")
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        if bytes.contains(0) {
            throw AMQPError(code: .invalidURL, operation: "parse URL", detail: "NUL character in the \(what)")
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw AMQPError(code: .invalidURL, operation: "parse URL", detail: "the \(what) is not valid UTF-8")
        }
        return string
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || "-._~".contains(c) {
                out.append(c)
            } else {
                var escape: [UInt8] = [UInt8(ascii: "%")]
                Hex.append(byte, to: &escape, uppercase: true)
                out += String(decoding: escape, as: UTF8.self)
            }
        }
        return out
    }
}

/// A comma-separated list of URLs. A comma inside a URL's userinfo is not a separator: a comma is legal
/// unencoded in a password, and splitting there cut the password in two and printed its second half as if
/// it were a host. A comma is inside the userinfo when the URL has reached its authority (`scheme://`), no
/// `@` or `/` came yet, and an `@` follows before the next `/` or comma-and-scheme. Every other comma
/// separates (a list of plain words is split on each).
public enum URLList {
    public static func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var parts: [String] = []
        var start = 0
        var index = 0
        while index < s.count {
            if s[index] == ",", !insideUserinfo(s, from: start, comma: index) {
                parts.append(trimmed(s[start..<index]))
                start = index + 1
            }
            index += 1
        }
        parts.append(trimmed(s[start..<s.count]))
        return parts
    }

    static func insideUserinfo(_ s: [Unicode.Scalar], from start: Int, comma: Int) -> Bool {
        if startsWithScheme(s, at: comma + 1) { return false }
        guard let authority = authorityStart(s, from: start, before: comma) else { return false }
        if s[authority..<comma].contains(where: { $0 == "@" || $0 == "/" }) { return false }
        var i = comma + 1
        while i < s.count, s[i] != "/" {
            if s[i] == "@" { return true }
            if s[i] == ",", startsWithScheme(s, at: i + 1) { return false }
            i += 1
        }
        return false
    }

    /// Where the authority begins (just after `://`) in the URL starting at `start`, if it reached it.
    static func authorityStart(_ s: [Unicode.Scalar], from start: Int, before end: Int) -> Int? {
        var i = start
        while i + 2 < end {
            if s[i] == ":" && s[i + 1] == "/" && s[i + 2] == "/" { return i + 3 }
            i += 1
        }
        return nil
    }

    /// True when `scheme://` (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`) starts at `start`,
    /// after optional spaces.
    static func startsWithScheme(_ s: [Unicode.Scalar], at start: Int) -> Bool {
        var i = start
        while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 }
        guard i < s.count, isLetter(s[i]) else { return false }
        i += 1
        while i < s.count, isLetter(s[i]) || ("0"..."9").contains(s[i]) || "+-.".unicodeScalars.contains(s[i]) {
            i += 1
        }
        return i + 2 < s.count && s[i] == ":" && s[i + 1] == "/" && s[i + 2] == "/"
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }

    static func trimmed(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var slice = scalars
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(String.UnicodeScalarView(slice))
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
