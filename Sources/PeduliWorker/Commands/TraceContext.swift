import AMQPClient

/// A command's W3C trace context (Trace Context, Level 1): the `traceparent` and `tracestate` headers, checked
/// and carried onto what the command causes (its events and its retry copies). The worker takes no part in
/// the trace itself (no spans, no exporter): it passes the caller's context on unchanged, so a trace that
/// reaches the worker continues in the notification services.
///
/// - `traceparent` is `version-traceid-parentid-flags`: lowercase hex, 2-32-16-2 digits, version not `ff`,
///   trace id and parent id not all zeros. Version `00` is exactly 55 characters; a later version may be
///   longer (a `-` after the four fields) and is carried as version `00` with its first four fields, as the
///   specification asks of a party that knows only `00`. Anything else is dropped, and with it `tracestate`.
/// - `tracestate` is a list of at most 32 `key=value` members (keys `[a-z0-9_*/-]`, with one `@` for a
///   tenant, starting with a letter or digit, at most 256 characters; values printable ASCII without `,` and
///   `=`, at most 256 characters, not ending in a space). Blank members and the spaces around members are
///   removed. A malformed or duplicated member drops the whole header. Over 512 characters it is cut as the
///   specification recommends: first members longer than 128 characters, then members from the end.
struct TraceContext: Sendable, Equatable {
    static let traceparentKey = "traceparent"
    static let tracestateKey = "tracestate"
    /// The specification's recommended bound on a propagated `tracestate`, commas included.
    static let tracestateMaxLength = 512
    static let tracestateMaxMembers = 32
    /// Members at least this long go first when `tracestate` has to be cut.
    static let tracestateLongMember = 128

    let traceparent: String
    let tracestate: String?

    init(traceparent: String, tracestate: String?) {
        self.traceparent = traceparent
        self.tracestate = tracestate
    }

    /// The context of a delivery's headers; nil without a valid `traceparent`.
    init?(headers: AMQPTable?) {
        guard let raw = headers?[Self.traceparentKey]?.stringValue,
            let traceparent = Self.traceparent(raw)
        else { return nil }
        self.traceparent = traceparent
        self.tracestate = headers?[Self.tracestateKey]?.stringValue.flatMap(Self.tracestate)
    }

    /// The headers an outgoing message carries for this context.
    var headers: AMQPTable {
        var table: AMQPTable = [Self.traceparentKey: .string(traceparent)]
        if let tracestate { table[Self.tracestateKey] = .string(tracestate) }
        return table
    }

    /// `headers` with its trace headers replaced by the checked context of `headers` (removed when invalid).
    static func checked(_ headers: AMQPTable) -> AMQPTable {
        let context = TraceContext(headers: headers)
        var result = headers
        result[traceparentKey] = nil
        result[tracestateKey] = nil
        if let context { result.entries += context.headers.entries }
        return result
    }

    /// The `traceparent` to carry for `value`, or nil when it is not one.
    static func traceparent(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard bytes.count >= 55, bytes[2] == dash, bytes[35] == dash, bytes[52] == dash else { return nil }
        let version = bytes[0..<2], traceID = bytes[3..<35], parentID = bytes[36..<52], flags = bytes[53..<55]
        guard [version, traceID, parentID, flags].allSatisfy(isLowercaseHex) else { return nil }
        guard !(version.elementsEqual("ff".utf8)), !traceID.allSatisfy({ $0 == zero }),
            !parentID.allSatisfy({ $0 == zero })
        else { return nil }
        if version.elementsEqual("00".utf8) { return bytes.count == 55 ? value : nil }
        // A later version: its first four fields, then (if any) a dash before what this version does not know.
        guard bytes.count == 55 || bytes[55] == dash else { return nil }
        return "00" + String(decoding: bytes[2..<55], as: UTF8.self)
    }

    /// The `tracestate` to carry for `value`: normalised and cut to the recommended length, or nil when it
    /// is malformed or empty.
    static func tracestate(_ value: String) -> String? {
        var members: [Substring] = []
        var keys: Set<Substring> = []
        for part in value.split(separator: ",", omittingEmptySubsequences: false) {
            let member = part.trimmingOptionalWhitespace()
            if member.isEmpty { continue }
            guard let equals = member.firstIndex(of: "="), isKey(member[..<equals]),
                isValue(member[member.index(after: equals)...]),
                keys.insert(member[..<equals]).inserted
            else { return nil }
            members.append(member)
        }
        guard members.count <= tracestateMaxMembers else { return nil }
        func length(_ m: [Substring]) -> Int { m.reduce(0) { $0 + $1.utf8.count } + max(0, m.count - 1) }
        if length(members) > tracestateMaxLength {
            members.removeAll { $0.utf8.count > tracestateLongMember }
            while length(members) > tracestateMaxLength { members.removeLast() }
        }
        return members.isEmpty ? nil : members.joined(separator: ",")
    }

    private static let dash = UInt8(ascii: "-")
    private static let zero = UInt8(ascii: "0")

    private static func isLowercaseHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
    }

    /// `simple-key` or `tenant-id@system-id`: lowercase letters, digits, `_ - * /`, starting with a letter
    /// (a tenant id may start with a digit), at most 256 characters.
    private static func isKey(_ key: Substring) -> Bool {
        let bytes = Array(key.utf8)
        guard (1...256).contains(bytes.count) else { return false }
        func allowed(_ b: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                || "_-*/".utf8.contains(b)
        }
        func isLetter(_ b: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) }
        func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        let parts = bytes.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return isLetter(bytes[0]) && bytes.allSatisfy(allowed)
        case 2:
            let tenant = parts[0], system = parts[1]
            guard let tenantFirst = tenant.first, let systemFirst = system.first else { return false }
            return tenant.count <= 241 && system.count <= 14 && tenant.allSatisfy(allowed)
                && system.allSatisfy(allowed) && (isLetter(tenantFirst) || isDigit(tenantFirst))
                && isLetter(systemFirst)
        default:
            return false
        }
    }

    /// 1 to 256 printable ASCII characters other than `,` and `=`, not ending in a space.
    private static func isValue(_ value: Substring) -> Bool {
        let bytes = Array(value.utf8)
        guard (1...256).contains(bytes.count), bytes.last != UInt8(ascii: " ") else { return false }
        return bytes.allSatisfy { (0x20...0x7E).contains($0) && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
    }
}

extension Substring {
    /// Without the spaces and tabs a list member may have around it (`OWS` in the specification).
    fileprivate func trimmingOptionalWhitespace() -> Substring {
        var s = self
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return s
    }
}
