import Testing

@testable import AMQPClient

@Suite struct AMQPConfigurationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var url: String
        var tls: Bool
        var host: String
        var port: Int
        var user: String
        var password: String
        var vhost: String
        var testDescription: String { url }
    }

    static let valid: [Case] = [
        Case(url: "amqp://", tls: false, host: "localhost", port: 5672, user: "guest", password: "guest", vhost: "/"),
        Case(url: "amqps://", tls: true, host: "localhost", port: 5671, user: "guest", password: "guest", vhost: "/"),
        Case(url: "amqp://host", tls: false, host: "host", port: 5672, user: "guest", password: "guest", vhost: "/"),
        Case(url: "amqp://host/", tls: false, host: "host", port: 5672, user: "guest", password: "guest", vhost: "/"),
        Case(
            url: "amqp://host/%2F", tls: false, host: "host", port: 5672, user: "guest", password: "guest", vhost: "/"),
        Case(
            url: "amqp://host/%2f", tls: false, host: "host", port: 5672, user: "guest", password: "guest", vhost: "/"),
        Case(
            url: "amqp://host/prod", tls: false, host: "host", port: 5672, user: "guest", password: "guest",
            vhost: "prod"),
        Case(
            url: "amqp://host/a%2Fb", tls: false, host: "host", port: 5672, user: "guest", password: "guest",
            vhost: "a/b"),
        Case(
            url: "amqp://host/%2Fslash", tls: false, host: "host", port: 5672, user: "guest", password: "guest",
            vhost: "/slash"),
        Case(url: "amqp://u:p@h:1234/v", tls: false, host: "h", port: 1234, user: "u", password: "p", vhost: "v"),
        Case(url: "AMQPS://u:p@h/v", tls: true, host: "h", port: 5671, user: "u", password: "p", vhost: "v"),
        Case(url: "amqp://user@h", tls: false, host: "h", port: 5672, user: "user", password: "guest", vhost: "/"),
        Case(url: "amqp://user:@h", tls: false, host: "h", port: 5672, user: "user", password: "", vhost: "/"),
        Case(url: "amqp://:@h", tls: false, host: "h", port: 5672, user: "", password: "", vhost: "/"),
        Case(
            url: "amqp://us%40er:p%3As%2Fs%25@h", tls: false, host: "h", port: 5672, user: "us@er", password: "p:s/s%",
            vhost: "/"),
        Case(url: "amqp://u:p@ss@h", tls: false, host: "h", port: 5672, user: "u", password: "p@ss", vhost: "/"),
        Case(url: "amqp://h:", tls: false, host: "h", port: 5672, user: "guest", password: "guest", vhost: "/"),
        Case(
            url: "amqp://:5673", tls: false, host: "localhost", port: 5673, user: "guest", password: "guest", vhost: "/"
        ),
        Case(
            url: "amqp://[::1]:5673/v", tls: false, host: "::1", port: 5673, user: "guest", password: "guest",
            vhost: "v"),
        Case(url: "amqp://[::1]", tls: false, host: "::1", port: 5672, user: "guest", password: "guest", vhost: "/"),
        Case(
            url: "amqp://h/caf%C3%A9", tls: false, host: "h", port: 5672, user: "guest", password: "guest",
            vhost: "café"),
        Case(url: "amqp://h:65535", tls: false, host: "h", port: 65535, user: "guest", password: "guest", vhost: "/"),
    ]

    @Test(arguments: valid)
    func parsesValidURL(_ c: Case) throws {
        let e = try AMQPEndpoint(url: c.url)
        #expect(e.useTLS == c.tls)
        #expect(e.host == c.host)
        #expect(e.port == c.port)
        #expect(e.user == c.user)
        #expect(e.password == c.password)
        #expect(e.vhost == c.vhost)
    }

    static let invalid: [(String, String)] = [
        ("", "empty URL"),
        ("localhost:5672", "missing scheme"),
        ("http://host", "unsupported scheme"),
        ("amqp://h:0", "invalid port"),
        ("amqp://h:65536", "invalid port"),
        ("amqp://h:-1", "invalid port"),
        ("amqp://h:12a", "invalid port"),
        ("amqp://h/a/b", "one path segment"),
        ("amqp://h/%zz", "percent-escape in the vhost"),
        ("amqp://h/%2", "percent-escape in the vhost"),
        ("amqp://u:%G1@h", "percent-escape in the password"),
        ("amqp://h/%00", "NUL character"),
        ("amqp://h/%FF", "not valid UTF-8"),
        ("amqp://h/v?bogus=1", "query parameter bogus is not supported"),
        ("amqp://h/v?cacertfile=/x", "amqp.tls.* keys"),
        ("amqp://h/v?heartbeat=abc", "heartbeat must be whole seconds"),
        ("amqp://h/v?heartbeat=70000", "heartbeat must be whole seconds"),
        ("amqp://h/v?frame_max=100", "frame_max must be bytes"),
        ("amqp://h/v?heartbeat=1&heartbeat=2", "given twice"),
        ("amqp://h/v#x", "fragments"),
        ("amqp://[::1/v", "unterminated IPv6"),
        ("amqp://[::1]x/v", "after IPv6"),
        ("amqp://h o/", "whitespace"),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidURL(_ url: String, _ reason: String) {
        let error = #expect(throws: AMQPError.self) { try AMQPEndpoint(url: url) }
        #expect(error?.code == .invalidURL)
        #expect(error?.detail?.contains(reason) == true, "\(String(describing: error?.detail))")
    }

    @Test func acceptsTheQueryParametersLibrabbitmqHonours() throws {
        let e = try AMQPEndpoint(
            url: "amqp://u:p@h:5700/v?heartbeat=10&connection_timeout=2500&channel_max=16&frame_max=65536")
        #expect(e.vhost == "v")
        #expect(e.port == 5700)
        #expect(e.options.heartbeatSeconds == 10)
        #expect(e.options.connectTimeout == .milliseconds(2500))
        #expect(e.options.channelMax == 16)
        #expect(e.options.frameMax == 65536)
        #expect(
            e.redacted == "amqp://u:***@h:5700/v?heartbeat=10&connection_timeout=2500&channel_max=16&frame_max=65536")
        let root = try AMQPEndpoint(url: "amqp://u:p@h/?heartbeat=10")
        #expect(root.vhost == "/")
        #expect(root.options.heartbeatSeconds == 10)
        let bare = try AMQPEndpoint(url: "amqp://u:p@h?heartbeat=0")
        #expect(bare.options.heartbeatSeconds == 0)
        #expect(bare.host == "h")
    }

    @Test func parsesClusterList() throws {
        let config = try AMQPConfiguration(url: "amqp://u:p@n1:5672/v, amqp://u:p@n2:5673/v,amqps://u:p@n3/v")
        #expect(config.endpoints.map(\.host) == ["n1", "n2", "n3"])
        #expect(config.endpoints.map(\.port) == [5672, 5673, 5671])
        #expect(config.heartbeatSeconds == 30)
        #expect(config.frameMax == 131_072)
        #expect(config.connectTimeout == .seconds(10))
    }

    @Test(arguments: ["amqp://n1,", ",amqp://n1", "amqp://n1,,amqp://n2", "amqp://n1,bad"])
    func rejectsBadListElement(_ url: String) {
        let error = #expect(throws: AMQPError.self) { try AMQPConfiguration(url: url) }
        #expect(error?.code == .invalidURL)
        #expect(error?.detail?.contains("URL #") == true)
    }

    /// A comma is legal unencoded in a password; cutting the list there printed the rest of the password.
    @Test(arguments: [
        ("amqp://peduli:s3cr,etPW@broker:5672/", ["s3cr,etPW"]),
        ("amqp://peduli:a,b,c@n1/,amqp://peduli:x,y@n2/", ["a,b,c", "x,y"]),
        ("amqp://peduli:,@n1, amqps://peduli:p@n2", [",", "p"]),
    ])
    func commaInAPasswordStaysInIt(_ url: String, _ passwords: [String]) throws {
        let config = try AMQPConfiguration(url: url)
        #expect(config.endpoints.map(\.password) == passwords)
        #expect(!config.redacted.contains("etPW") && !config.redacted.contains(",b"))
    }

    @Test(arguments: [
        ("a, b,c", ["a", "b", "c"]),
        ("amqp://u:p,q@h/v,amqp://h2", ["amqp://u:p,q@h/v", "amqp://h2"]),
        ("postgresql://u:p,q@h/db", ["postgresql://u:p,q@h/db"]),
        ("amqp://h1,h2", ["amqp://h1", "h2"]),
    ])
    func urlListSplitsOnlyBetweenURLs(_ text: String, _ parts: [String]) {
        #expect(URLList.split(text) == parts)
    }

    @Test func invalidURLErrorNeverRepeatsThePassword() {
        let error = #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://u:s3cr3t@h:99999/v") }
        #expect(error.map { "\($0)".contains("s3cr3t") } == false)
    }

    @Test func redactsPasswordEverywhere() throws {
        let config = try AMQPConfiguration(
            url: "amqp://worker:s3cr3t%21@h:5700/my%2Fvhost,amqps://worker:s3cr3t%21@h2/")
        let e = config.endpoints[0]
        #expect(e.redacted == "amqp://worker:***@h:5700/my%2Fvhost")
        #expect(config.endpoints[1].redacted == "amqps://worker:***@h2:5671/")
        for text in [
            "\(e)", String(reflecting: e), e.debugDescription, "\(config)", config.redacted,
            String(reflecting: config), dumpString(e), dumpString(config),
        ] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
        let error = AMQPError(code: .connectionFailed, operation: "connect", endpoint: e.redacted)
        #expect(!"\(error)".contains("s3cr3t"))
    }

    @Test func redactedURLParsesBackToTheSameEndpointExceptPassword() throws {
        let e = try AMQPEndpoint(url: "amqp://us%40er:pw@[::1]:5700/caf%C3%A9%2F1")
        var back = try AMQPEndpoint(url: e.redacted)
        #expect(back.password == "***")
        back.password = e.password
        #expect(back == e)
    }

    private func dumpString<T>(_ value: T) -> String {
        var out = ""
        dump(value, to: &out)
        return out
    }
}
