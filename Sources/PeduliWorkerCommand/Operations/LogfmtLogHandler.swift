import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A swift-log handler that writes one logfmt line per event to standard error.
///
/// logfmt because it is greppable by eye and parsed by Loki, Vector and journald tooling alike;
/// one line per event because a multi-line message split by the journal is unreadable. Under
/// systemd (stderr connected to the journal, see `JOURNAL_STREAM` in systemd.exec(5)) each line
/// starts with the sd-daemon(3) `<N>` priority prefix so that `journalctl -p warning` works, and the
/// timestamp is left out because the journal records its own.
///
/// Format: `ts=2026-11-25T06:15:00.123Z level=info logger=peduli msg="consumer started" queue=peduli.payments`
/// Metadata keys are sorted; values are quoted when they contain anything but plain printable
/// characters. Personal data must not be passed in metadata: this handler does not filter.
public struct LogfmtLogHandler: LogHandler {
    /// Where finished lines go. The default writes to file descriptor 2 with `write(2)`.
    public typealias Sink = @Sendable (String) -> Void

    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Whether to emit the journald priority prefix instead of a timestamp.
    public let journal: Bool
    private let sink: Sink
    private let clock: @Sendable () -> Date

    public init(
        label: String,
        logLevel: Logger.Level = .info,
        journal: Bool = LogfmtLogHandler.standardErrorIsJournal(),
        metadataProvider: Logger.MetadataProvider? = nil,
        clock: @escaping @Sendable () -> Date = { Date() },
        sink: @escaping Sink = LogfmtLogHandler.writeToStandardError
    ) {
        self.label = label
        self.logLevel = logLevel
        self.journal = journal
        self.metadataProvider = metadataProvider
        self.clock = clock
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        if let error = event.error {
            merged["error"] = .string(String(describing: error))
        }
        let line = Self.format(
            level: event.level,
            message: event.message.description,
            label: label,
            metadata: merged,
            date: journal ? nil : clock(),
            journalPriority: journal
        )
        sink(line)
    }

    // MARK: - Formatting (pure)

    /// Builds one line, newline included. `date` nil leaves out `ts=`.
    public static func format(
        level: Logger.Level,
        message: String,
        label: String,
        metadata: Logger.Metadata,
        date: Date?,
        journalPriority: Bool
    ) -> String {
        var line = ""
        line.reserveCapacity(128)
        if journalPriority {
            line += "<\(syslogPriority(level))>"
        }
        if let date {
            line += "ts=\(timestamp(date)) "
        }
        line += "level=\(level.rawValue) logger=\(quoted(label)) msg=\(quoted(message))"
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            var name = sanitizedKey(key)
            if reservedKeys.contains(name) { name = "meta_" + name }
            line += " \(name)=\(quoted(render(value)))"
        }
        line += "\n"
        return line
    }

    static let reservedKeys: Set<String> = ["ts", "level", "logger", "msg"]

    /// The sd-daemon(3) priority for a level: syslog's severities, trace folded into debug.
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Renders a metadata value: nested arrays and dictionaries as `[a, b]` / `[k: v]` with keys sorted.
    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .array(let array): return "[" + array.map(render).joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            return "["
                + dictionary.keys.sorted().map { "\($0): \(render(dictionary[$0]!))" }
                .joined(separator: ", ") + "]"
        }
    }

    /// A key may contain only printable ASCII other than space, `=` and `"`; anything else becomes `_`.
    static func sanitizedKey(_ key: String) -> String {
        if key.isEmpty { return "_" }
        var out = ""
        for scalar in key.unicodeScalars {
            if scalar.value > 0x20, scalar.value < 0x7F, scalar != "=", scalar != "\"" {
                out.unicodeScalars.append(scalar)
            } else {
                out += "_"
            }
        }
        return out
    }

    /// Returns the value as is when it is a non-empty run of printable characters without space,
    /// `=`, `"` or `\`; otherwise in double quotes with `\\`, `\"`, `\n`, `\r`, `\t` and `\u{XX}`
    /// escapes, so a value can never break the line or forge another key.
    public static func quoted(_ value: String) -> String {
        var needsQuotes = value.isEmpty
        if !needsQuotes {
            for scalar in value.unicodeScalars where needsQuoting(scalar) {
                needsQuotes = true
                break
            }
        }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if isControl(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }

    private static func needsQuoting(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "=" || scalar == "\"" || scalar == "\\" || isControl(scalar)
            || scalar.properties.isWhitespace
    }

    /// C0, DEL, C1, and the Unicode line/paragraph separators, which some viewers treat as newlines.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// RFC 3339 in UTC with milliseconds, built by hand: `DateFormatter` is slow and not thread-safe.
    public static func timestamp(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(totalMilliseconds / 1000)
        var milliseconds = Int(totalMilliseconds % 1000)
        if milliseconds < 0 {
            milliseconds += 1000
            seconds -= 1
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + ".\(pad(Int32(milliseconds), 3))Z"
    }

    // MARK: - Output

    /// True when fd 2 is the stream systemd connected to the journal: `JOURNAL_STREAM` holds
    /// `device:inode` of that stream, and it only counts if fd 2 is still that same file (a
    /// child whose stderr was redirected inherits the variable but not the stream).
    public static func standardErrorIsJournal(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else {
            return false
        }
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// Writes the whole line to fd 2 with `write(2)`, retrying on `EINTR` and partial writes.
    /// One `write` per line keeps lines from concurrent threads whole (up to PIPE_BUF on a pipe).
    /// Errors are dropped: there is nowhere left to report them.
    public static let writeToStandardError: Sink = { line in
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// Installs this handler for every logger of the process. `LOG_LEVEL`-style control is the
    /// caller's: pass the level read from the configuration.
    public static func bootstrap(logLevel: Logger.Level = .info) {
        let journal = standardErrorIsJournal()
        LoggingSystem.bootstrap { label in
            LogfmtLogHandler(label: label, logLevel: logLevel, journal: journal)
        }
    }
}
