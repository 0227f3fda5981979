import AMQPClient
import Foundation
import PeduliDomain
import PeduliSamples

/// What the load generator expects the worker to do with one message.
enum Expectation: UInt8, Sendable {
    case accepted = 1, rejected, parked, either, hostile

    var label: String {
        switch self {
        case .accepted: "accepted"
        case .rejected: "rejected"
        case .parked: "parked"
        case .either: "either"
        case .hostile: "hostile"
        }
    }
}

/// One message ready to publish.
struct BenchMessage: Sendable {
    var seq: Int
    var routingKey: String
    var body: [UInt8]
    var messageID: String?
    var contentType: String?
    var userID: String?
    var expectation: Expectation
    var kind: String
    /// Headers the message carries besides the bench's own (envelope attacks).
    var headers: AMQPTable = [:]
}

/// A small deterministic PRNG, so a run can be repeated exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds the message sequence of a run: valid by default, with a share of invalid commands of every
/// rejection and dead-letter kind, and optionally hostile (fuzzed) bodies and envelopes.
struct BenchWorkload {
    enum Mode: String, Sendable { case backlog, mixed }

    let samples: SampleWorkload
    let rosterSize: Int
    let runID: String
    let invalidShare: Double
    let hostileShare: Double
    let unauthorizedKind: Bool
    let portalUser: String
    let registrationOffset: Int
    var rng: SplitMix64
    private(set) var seq = 0
    private var registrationIndex = 0
    private var paymentIndex = 0
    /// Registration indices whose outcome is certainly `accepted`, in publication order.
    private(set) var payable: [Int] = []
    private var payableHead = 0
    private var queued: [BenchMessage] = []
    private var cache: [Int: SampleWorkload.Registration] = [:]

    init(
        runID: String, rosterSize: Int, invalidShare: Double, hostileShare: Double, unauthorizedKind: Bool,
        portalUser: String, registrationOffset: Int, seed: UInt64, reference: Date
    ) {
        self.samples = SampleWorkload(reference: reference)
        self.rosterSize = rosterSize
        self.runID = runID
        self.invalidShare = invalidShare
        self.hostileShare = hostileShare
        self.unauthorizedKind = unauthorizedKind
        self.portalUser = portalUser
        self.registrationOffset = registrationOffset
        self.rng = SplitMix64(state: seed)
    }

    static let registrationRejections = [
        "invalid_nik", "age_above_limit", "unknown_sponsor", "excluded_work_status", "outside_programme_area",
        "missing_field", "invalid_type", "not_actively_working", "invalid_phone", "unknown_occupation",
        "ineligible_occupation",
    ]
    static let paymentRejections = ["amount_mismatch", "invalid_months", "invalid_value", "unknown_sponsor"]
    static let deadLetterKinds = [
        "unsupported_content_type", "missing_message_id", "invalid_message_id", "malformed_json", "too_large",
        "conflicting_duplicate",
    ]

    func messageID(_ seq: Int) -> String { "b\(runID)-\(seq)" }

    /// The sequence number a correlation id or message id names, if it is one of this run's.
    static func seq(fromCorrelation id: String, runID: String) -> Int? {
        let prefix = "b\(runID)-"
        guard id.hasPrefix(prefix) else { return nil }
        return Int(id.dropFirst(prefix.count))
    }

    private mutating func nextSeq() -> Int {
        defer { seq += 1 }
        return seq
    }

    private func sponsor(_ i: Int) -> SampleWorkload.Sponsor { samples.sponsor(i % rosterSize) }

    private mutating func registrationSample(_ index: Int) -> SampleWorkload.Registration {
        let r = samples.registration(index, sponsor: sponsor(index))
        return r
    }

    private func make(
        _ seq: Int, _ key: String, _ json: JSONValue, _ expectation: Expectation, _ kind: String
    ) -> BenchMessage {
        BenchMessage(
            seq: seq, routingKey: key, body: json.canonicalJSON(), messageID: messageID(seq),
            contentType: "application/json", userID: portalUser, expectation: expectation, kind: kind)
    }

    private mutating func pickInvalid() -> Bool {
        invalidShare > 0 && Double.random(in: 0..<1, using: &rng) < invalidShare
    }
    private mutating func pickHostile() -> Bool {
        hostileShare > 0 && Double.random(in: 0..<1, using: &rng) < hostileShare
    }

    /// The next registration command (or a dead-letter/hostile variant of one).
    mutating func nextRegistration() -> BenchMessage {
        if !queued.isEmpty { return queued.removeFirst() }
        let index = registrationOffset + registrationIndex
        registrationIndex += 1
        let r = registrationSample(index)
        let seq = nextSeq()
        if pickHostile() { return hostile(seq, base: r.body) }
        guard pickInvalid() else {
            payable.append(index)
            return make(seq, "registration.submit", r.body, .accepted, "valid")
        }
        let deadShare = 0.4
        if Double.random(in: 0..<1, using: &rng) < deadShare {
            return deadLetter(seq, r.body, "registration.submit")
        }
        let kind = Self.registrationRejections.randomElement(using: &rng)!
        var b = r.body
        switch kind {
        case "invalid_nik": b = b.setting("worker.nik", to: .string("12345"))
        case "age_above_limit": b = b.setting("worker.birth_date", to: .string("1950-01-01"))
        case "unknown_sponsor":
            b = b.setting("sponsor.nip", to: .string(samples.sponsor(rosterSize + 1000 + index % 5000).nip))
        case "excluded_work_status": b = b.setting("worker.work_status", to: .string("employee"))
        case "outside_programme_area": b = b.setting("worker.work_location.kecamatan", to: .string("337501"))
        case "missing_field": b = b.setting("worker.name", to: nil)
        case "invalid_type": b = b.setting("worker.actively_working", to: .string("yes"))
        case "not_actively_working": b = b.setting("worker.actively_working", to: .bool(false))
        case "invalid_phone": b = b.setting("worker.phone", to: .string("0212345"))
        case "ineligible_occupation": b = b.setting("worker.occupation", to: .string("P030"))
        default: b = b.setting("worker.occupation", to: .string("P900"))
        }
        return make(seq, "registration.submit", b, .rejected, kind)
    }

    /// The next payment, for the oldest registration known to be accepted; nil when there is none.
    mutating func nextPayment() -> BenchMessage? {
        if !queued.isEmpty { return queued.removeFirst() }
        guard payableHead < payable.count else { return nil }
        let regIndex = payable[payableHead]
        payableHead += 1
        let r = registrationSample(regIndex)
        let p = samples.payment(
            registrationOffset + paymentIndex, for: r, payer: sponsor(regIndex &* 31 &+ 7),
            months: [1, 3, 6, 12][paymentIndex % 4])
        paymentIndex += 1
        let seq = nextSeq()
        if pickHostile() { return hostile(seq, base: p.body) }
        guard pickInvalid() else { return make(seq, "payment.submit", p.body, .accepted, "valid") }
        if Double.random(in: 0..<1, using: &rng) < 0.4 { return deadLetter(seq, p.body, "payment.submit") }
        let kind = Self.paymentRejections.randomElement(using: &rng)!
        var b = p.body
        switch kind {
        case "amount_mismatch": b = b.setting("amount", to: .int(p.amount + 1))
        case "invalid_months": b = b.setting("months", to: .int(5))
        case "invalid_value": b = b.setting("channel", to: .string("cash"))
        default: b = b.setting("payer_nip", to: .string(samples.sponsor(rosterSize + 1000 + regIndex % 5000).nip))
        }
        return make(seq, "payment.submit", b, .rejected, kind)
    }

    private mutating func deadLetter(_ seq: Int, _ body: JSONValue, _ key: String) -> BenchMessage {
        var kinds = Self.deadLetterKinds
        if unauthorizedKind { kinds.append("unauthorized_publisher") }
        let kind = kinds.randomElement(using: &rng)!
        var m = make(seq, key, body, .parked, kind)
        switch kind {
        case "unsupported_content_type": m.contentType = "text/plain"
        case "missing_message_id": m.messageID = nil
        case "invalid_message_id": m.messageID = "bad id \(seq)"
        case "malformed_json": m.body = Array("{\"registration_id\": ".utf8)
        case "too_large":
            m.body = body.setting("padding", to: .string(String(repeating: "x", count: 70_000))).canonicalJSON()
        case "unauthorized_publisher": m.userID = nil
        default:
            // The valid original first, then the same id with other content: one of the two is parked.
            m.expectation = .either
            m.kind = "conflicting_duplicate"
            let field = key == "registration.submit" ? "source" : "channel"
            let other = key == "registration.submit" ? "family" : "teller"
            let alt = "verified_data" == other ? "neighbourhood" : "verified_data"
            var second = make(nextSeq(), key, body.setting(field, to: .string(other)), .either, "conflicting_duplicate")
            if body.objectValue?[field] == .string(other) {
                second.body = body.setting(field, to: .string(alt)).canonicalJSON()
            }
            queued.append(second)
        }
        return m
    }

    // MARK: - Hostile bodies

    static let metacharacters = [
        "'; DROP TABLE registrations; --", "\" OR 1=1 --", "$(rm -rf /)", "`id`", "%s%n%x", "\\u0000\u{0}",
        "<script>alert(1)</script>", "../../etc/passwd", "|| true &&", "\u{202E}evil", "NULL", "${jndi:ldap://x}",
    ]

    /// A fuzzed body, or (half of the time) an envelope attack on an otherwise valid body: headers nested
    /// beyond 16 levels (up to 6,000, within the frame), over 256 entries or over 16 KiB, a forged
    /// `x-peduli-user-id`, or control characters and excess length in the free-text fields.
    private mutating func hostile(_ seq: Int, base: JSONValue) -> BenchMessage {
        if Bool.random(using: &rng) { return envelopeAttack(seq, base: base) }
        let kinds = ["random_bytes", "deep_nesting", "huge_numbers", "invalid_utf8", "wrong_types", "metacharacters"]
        let kind = kinds.randomElement(using: &rng)!
        var m = make(seq, "registration.submit", base, .hostile, "hostile_" + kind)
        if base.objectValue?["payment_id"] != nil { m.routingKey = "payment.submit" }
        switch kind {
        case "random_bytes":
            m.body = (0..<Int.random(in: 0...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case "deep_nesting":
            let depth = Int.random(in: 65...20_000, using: &rng)
            if Bool.random(using: &rng) {
                m.body =
                    Array(repeating: UInt8(ascii: "["), count: depth)
                    + Array(repeating: UInt8(ascii: "]"), count: depth)
            } else {
                m.body =
                    Array(String(repeating: "{\"a\":", count: depth).utf8) + [UInt8(ascii: "1")]
                    + Array(repeating: UInt8(ascii: "}"), count: depth)
            }
        case "huge_numbers":
            let huge: [JSONValue] = [
                .number("1e400"), .number("123456789012345678901234567890"), .number("-0.0000001"),
                .number("9223372036854775808"),
            ]
            var b = base
            for f in [
                "months", "amount", "schema_version", "registration_id", "worker.actively_working", "submitted_at",
            ] {
                b = b.setting(f, to: huge.randomElement(using: &rng)!)
            }
            m.body = b.canonicalJSON()
        case "invalid_utf8":
            var bytes = base.canonicalJSON()
            let at = bytes.firstIndex(of: UInt8(ascii: ":")).map { $0 + 2 } ?? 1
            bytes.insert(contentsOf: [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80], at: min(at, bytes.count))
            m.body = bytes
        case "wrong_types":
            m.body = Self.mapLeaves(base) { v, rng in
                [JSONValue.array([v]), .bool(true), .null, .object(JSONObject([("x", v)])), .int(0)].randomElement(
                    using: &rng)!
            }(&rng).canonicalJSON()
        default:
            m.body = Self.mapLeaves(base) { v, rng in
                if case .string(let s) = v { return .string(s + Self.metacharacters.randomElement(using: &rng)!) }
                return .string(Self.metacharacters.randomElement(using: &rng)!)
            }(&rng).canonicalJSON()
        }
        return m
    }

    private mutating func envelopeAttack(_ seq: Int, base: JSONValue) -> BenchMessage {
        let isPayment = base.objectValue?["payment_id"] != nil
        let kinds =
            isPayment
            ? ["deep_headers", "wide_headers", "large_headers"]
            : ["deep_headers", "wide_headers", "large_headers", "nul_address", "long_address", "control_sponsor_unit"]
        let kind = kinds.randomElement(using: &rng)!
        var m = make(seq, isPayment ? "payment.submit" : "registration.submit", base, .parked, "hostile_" + kind)
        switch kind {
        case "deep_headers":
            var value = AMQPFieldValue.void
            let arrays = Bool.random(using: &rng)
            for level in 0..<Int.random(in: 17...6_000, using: &rng) {
                value = arrays || level % 2 == 0 ? .array([value]) : .table(["t": value])
            }
            m.headers = ["deep": value]
        case "wide_headers":
            m.headers = AMQPTable(
                (0..<Int.random(in: 257...2_000, using: &rng)).map { .init(key: "w\($0)", value: .int32(1)) })
        case "large_headers":
            m.headers = ["large": .string(String(repeating: "h", count: Int.random(in: 16_500...100_000, using: &rng)))]
        case "nul_address":
            m.body = base.setting("worker.work_location.address", to: "Jl. Pemuda\u{0}1").canonicalJSON()
            m.expectation = .rejected
        case "long_address":
            m.body = base.setting("worker.work_location.address", to: .string(String(repeating: "a", count: 60_000)))
                .canonicalJSON()
            m.expectation = .rejected
        default:
            m.body = base.setting("sponsor.unit", to: "Dinas\u{1B}[31m\n").canonicalJSON()
            m.expectation = .rejected
        }
        return m
    }

    private static func mapLeaves(
        _ v: JSONValue, _ f: @escaping (JSONValue, inout SplitMix64) -> JSONValue
    )
        -> (inout SplitMix64) -> JSONValue
    {
        { rng in
            switch v {
            case .object(let o):
                return .object(JSONObject(o.keys.map { k in (k, mapLeaves(o[k]!, f)(&rng)) }))
            case .array(let a):
                return .array(a.map { mapLeaves($0, f)(&rng) })
            default:
                return f(v, &rng)
            }
        }
    }
}
