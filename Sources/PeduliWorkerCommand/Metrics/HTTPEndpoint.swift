import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Why the endpoint could not start. Addresses are not secret.
struct HTTPEndpointError: Error, CustomStringConvertible, Sendable {
    /// Stable machine value: `address_unresolved`, `socket_failed`, `bind_failed`, `listen_failed`.
    let code: String
    let operation: String
    let address: String
    let errno: Int32

    var description: String {
        "metrics endpoint \(operation) \(address) failed (\(code))"
            + (errno == 0 ? "" : ": " + String(cString: strerror(errno)))
    }
}

/// A deliberately small HTTP/1.1 server for `/metrics`, `/healthz` and `/readyz`.
///
/// Why not a framework: the worker needs three GET routes for a scraper and a probe, and
/// Hummingbird/NIO would more than double the build. Why it is safe to be this small:
/// - one dedicated thread (never the cooperative pool) answers one connection at a time, which is
///   enough for scrapes every few seconds;
/// - each connection has a deadline (`requestTimeout`) and a size limit (`maxRequestBytes`), so a
///   slow or hostile client delays others by at most the deadline and cannot grow memory;
/// - every response closes the connection; writes use `MSG_NOSIGNAL` so a vanished peer cannot
///   raise SIGPIPE; any byte sequence has a defined answer (`HTTPRequestHead.parse`).
final class HTTPEndpoint: Sendable {
    typealias Handler = @Sendable (_ path: String) -> HTTPResponse

    struct Limits: Sendable {
        var maxRequestBytes = 8192
        var requestTimeout: Duration = .seconds(2)
    }

    private enum Phase {
        case ready, running, stopping, stopped
    }

    private struct State {
        var phase = Phase.ready
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let port: UInt16
    let address: String
    private let listenFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let limits: Limits
    private let handler: Handler
    private let state = Mutex(State())

    /// Binds and listens at once, so that a wrong address fails at start-up. Port 0 picks a free port.
    init(host: String, port: UInt16, limits: Limits = Limits(), handler: @escaping Handler) throws(HTTPEndpointError) {
        let display = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw HTTPEndpointError(code: "address_unresolved", operation: "resolve", address: display, errno: 0)
        }
        defer { freeaddrinfo(result) }
        let fd = socket(
            info.pointee.ai_family,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else {
            throw HTTPEndpointError(code: "socket_failed", operation: "socket", address: display, errno: errno)
        }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(fd)
            throw HTTPEndpointError(code: "bind_failed", operation: "bind", address: display, errno: code)
        }
        guard listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw HTTPEndpointError(code: "listen_failed", operation: "listen", address: display, errno: code)
        }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            let code = errno
            close(fd)
            throw HTTPEndpointError(code: "socket_failed", operation: "pipe", address: display, errno: code)
        }
        for pipeFD in pipeFDs { Self.setCloseOnExecAndNonBlocking(pipeFD) }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let family = Int32(bound.ss_family)
        let boundPort: UInt16 = withUnsafePointer(to: &bound) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    UInt16(bigEndian: $0.pointee.sin6_port)
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                UInt16(bigEndian: $0.pointee.sin_port)
            }
        }
        self.listenFD = fd
        self.wakeRead = pipeFDs[0]
        self.wakeWrite = pipeFDs[1]
        self.port = boundPort
        self.address = host.contains(":") ? "[\(host)]:\(boundPort)" : "\(host):\(boundPort)"
        self.limits = limits
        self.handler = handler
    }

    deinit {
        // Only reached when the thread is not running (it holds a strong reference while it is).
        let phase = state.withLock { $0.phase }
        if phase != .stopped { closeDescriptors() }
    }

    /// Starts the serving thread. Calling it twice has no further effect.
    func start() {
        let shouldStart = state.withLock { state -> Bool in
            guard state.phase == .ready else { return false }
            state.phase = .running
            return true
        }
        guard shouldStart else { return }
        let thread = Thread { [self] in self.serveLoop() }
        thread.name = "peduli-metrics-http"
        thread.start()
    }

    /// Asks the thread to stop and waits until it has closed the socket. Never blocks a thread:
    /// the caller is resumed by the serving thread when it exits.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                switch state.phase {
                case .ready:
                    state.phase = .stopped
                    closeDescriptors()
                    return true
                case .stopped:
                    return true
                case .running:
                    state.phase = .stopping
                    var byte: UInt8 = 1
                    _ = write(wakeWrite, &byte, 1)
                    state.waiters.append(continuation)
                    return false
                case .stopping:
                    state.waiters.append(continuation)
                    return false
                }
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// `pipe2`/`accept4` are not visible from Swift's Glibc module, hence the two `fcntl` calls.
    private static func setCloseOnExecAndNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    private func closeDescriptors() {
        close(listenFD)
        close(wakeRead)
        close(wakeWrite)
    }

    // MARK: - Serving thread

    private func serveLoop() {
        var descriptors = [
            pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if descriptors[1].revents != 0 { break }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                let client = accept(listenFD, nil, nil)
                if client < 0 {
                    // EMFILE and friends: back off briefly instead of spinning on a ready socket.
                    if errno != EAGAIN && errno != EINTR && errno != ECONNABORTED { usleep(10_000) }
                    continue
                }
                Self.setCloseOnExecAndNonBlocking(client)
                serve(client)
                close(client)
            }
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.phase = .stopped
            closeDescriptors()
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Reads one request head within the deadline and size limit, answers, and returns.
    private func serve(_ fd: Int32) {
        let deadline = ContinuousClock.now + limits.requestTimeout
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        var response: HTTPResponse?
        var includeBody = true
        while response == nil {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else {
                response = .error(408)
                break
            }
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            if count == 0 { return }  // the client went away without a full request
            received += chunk[0..<count]
            switch HTTPRequestHead.parse(received) {
            case .incomplete:
                if received.count >= limits.maxRequestBytes { response = .error(431) }
            case .invalid(let status):
                response = .error(status)
            case .request(let method, let path):
                switch method {
                case "GET":
                    response = handler(path)
                case "HEAD":
                    includeBody = false
                    response = handler(path)
                default:
                    response = HTTPResponse(
                        status: 405, body: "method not allowed\n", extraHeaders: [("Allow", "GET, HEAD")])
                }
            }
        }
        guard let response else { return }
        send(response.serialized(includeBody: includeBody), to: fd, until: deadline)
        shutdown(fd, Int32(SHUT_WR))
        drain(fd)
    }

    /// Reads and discards what the client still sends (briefly, boundedly) before the socket is
    /// closed: closing with unread input makes the kernel send a reset, which can destroy the
    /// response before the client has read it (an oversized request, say).
    private func drain(_ fd: Int32) {
        let deadline = ContinuousClock.now + .milliseconds(200)
        var discarded = 0
        var chunk = [UInt8](repeating: 0, count: 4096)
        while discarded < 65_536, wait(fd, for: Int16(POLLIN), until: deadline) {
            let count = read(fd, &chunk, chunk.count)
            if count > 0 {
                discarded += count
            } else if count < 0 && (errno == EINTR || errno == EAGAIN) {
                continue
            } else {
                return
            }
        }
    }

    private func send(_ bytes: [UInt8], to fd: Int32, until deadline: ContinuousClock.Instant) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return }
            } else {
                return
            }
        }
    }

    /// Polls one descriptor until it is ready or the deadline passes.
    private func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return false }
            let milliseconds = Int32(
                clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
                    + 1)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let result = poll(&descriptor, 1, milliseconds)
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return false }
        }
    }
}
