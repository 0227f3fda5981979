import AMQPClient
import Foundation
import Testing

@testable import PeduliWorker

/// W3C trace context: what is carried, what is dropped, and onto which messages the decider puts it.
struct TraceContextTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    struct ParentCase: Sendable, CustomTestStringConvertible {
        var name: String
        var value: String
        /// What is carried; nil when the header is dropped.
        var carried: String?
        var testDescription: String { name }
    }

    static let parents: [ParentCase] = [
        ParentCase(name: "valid, sampled", value: valid, carried: valid),
        ParentCase(
            name: "valid, not sampled", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            carried: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
        ParentCase(
            name: "uppercase hex", value: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", carried: nil),
        ParentCase(
            name: "trace id all zeros", value: "00-00000000000000000000000000000000-00f067aa0ba902b7-01", carried: nil),
        ParentCase(
            name: "parent id all zeros", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", carried: nil),
        ParentCase(
            name: "version ff", value: "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", carried: nil),
        ParentCase(name: "version 00 with more after it", value: valid + "-extra", carried: nil),
        ParentCase(
            name: "short trace id", value: "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", carried: nil),
        ParentCase(name: "not hex", value: "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", carried: nil),
        ParentCase(
            name: "wrong separators", value: "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", carried: nil),
        ParentCase(name: "surrounding space", value: " " + valid, carried: nil),
        ParentCase(name: "empty", value: "", carried: nil),
        ParentCase(name: "junk", value: "00-a-b-01", carried: nil),
        ParentCase(
            name: "a later version is carried as 00",
            value: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-later",
            carried: valid),
        ParentCase(name: "a later version of exactly 55 characters", value: "cc" + valid.dropFirst(2), carried: valid),
        ParentCase(
            name: "a later version without a dash after the flags", value: "01" + valid.dropFirst(2) + "x", carried: nil
        ),
    ]

    @Test(arguments: parents)
    func traceparent(_ c: ParentCase) {
        #expect(TraceContext.traceparent(c.value) == c.carried)
    }

    struct StateCase: Sendable, CustomTestStringConvertible {
        var name: String
        var value: String
        var carried: String?
        var testDescription: String { name }
    }

    static let long130 = "big=" + String(repeating: "x", count: 126)
    static func members(_ count: Int, width: Int = 1) -> [String] {
        (0..<count).map { "k\($0)=" + String(repeating: "v", count: width) }
    }

    static let states: [StateCase] = [
        StateCase(name: "one member", value: "congo=t61rcWkgMzE", carried: "congo=t61rcWkgMzE"),
        StateCase(
            name: "two members, spaces and blanks removed", value: " rojo=00f067aa0ba902b7 ,, congo=t61rcWkgMzE ",
            carried: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        StateCase(name: "multi-tenant key", value: "fw529a3039@dt=abc", carried: "fw529a3039@dt=abc"),
        StateCase(name: "value with spaces inside", value: "a=b c", carried: "a=b c"),
        StateCase(name: "empty", value: "", carried: nil),
        StateCase(name: "only blanks", value: " , ,", carried: nil),
        StateCase(name: "uppercase key", value: "Congo=x", carried: nil),
        StateCase(name: "no equals sign", value: "congo", carried: nil),
        StateCase(name: "empty value", value: "congo=", carried: nil),
        StateCase(name: "equals sign in the value", value: "congo=a=b", carried: nil),
        StateCase(name: "control character in the value", value: "congo=a\u{01}b", carried: nil),
        StateCase(name: "duplicate key", value: "a=1,a=2", carried: nil),
        StateCase(name: "33 members", value: members(33).joined(separator: ","), carried: nil),
        StateCase(
            name: "32 members", value: members(32).joined(separator: ","),
            carried: members(32).joined(separator: ",")),
        StateCase(
            name: "over 512: the long member goes first",
            value: ([long130] + members(20, width: 18)).joined(separator: ","),
            carried: members(20, width: 18).joined(separator: ",")),
        StateCase(
            name: "over 512: members from the end go next", value: members(30, width: 20).joined(separator: ","),
            carried: members(20, width: 20).joined(separator: ",")),
    ]

    @Test(arguments: states)
    func tracestate(_ c: StateCase) {
        let carried = TraceContext.tracestate(c.value)
        #expect(carried == c.carried)
        #expect((carried?.utf8.count ?? 0) <= TraceContext.tracestateMaxLength)
    }

    @Test func tracestateNeedsAValidTraceparent() {
        #expect(TraceContext(headers: ["tracestate": .string("a=1")]) == nil)
        #expect(TraceContext(headers: ["traceparent": .string("00-a-b-01"), "tracestate": .string("a=1")]) == nil)
        let context = TraceContext(headers: ["traceparent": .string(Self.valid), "tracestate": .string("a=1,b")])
        #expect(context == TraceContext(traceparent: Self.valid, tracestate: nil))
        let bytes = TraceContext(headers: ["traceparent": .bytes(Array(Self.valid.utf8))])
        #expect(bytes?.traceparent == Self.valid)
        #expect(TraceContext(headers: ["traceparent": .int32(1)]) == nil)
    }

    // MARK: - What the decider puts on each message

    typealias D = BatchDeciderTests

    struct DecisionCase: Sendable, CustomTestStringConvertible {
        var name: String
        var facts: BatchFacts
        /// The headers of the command(s); the last command is the one whose messages are checked.
        var commands: @Sendable (AMQPTable?) -> [InboundCommand]
        /// The incoming headers.
        var headers: AMQPTable?
        /// The kind of the checked message (`registration.accepted`, `dead`, `retry` ...).
        var message: String
        var traceparent: String?
        var tracestate: String?
        /// Other headers the message must keep (parked and retry copies keep everything).
        var keeps: [String] = []
        var testDescription: String { name }
    }

    static let trace: AMQPTable = [
        "traceparent": .string(valid), "tracestate": .string(" congo=t61rcWkgMzE , rojo=00f067aa0ba902b7"),
        "x-portal": .string("p1"),
    ]
    static let junk: AMQPTable = [
        "traceparent": .string("00-not-a-trace-01"), "tracestate": .string("congo=1"), "x-portal": .string("p1"),
    ]
    static let normalisedState = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"

    static func registration(_ headers: AMQPTable?) -> [InboundCommand] {
        [D.command(D.worker.body, headers: headers)]
    }

    static let decisions: [DecisionCase] = [
        DecisionCase(
            name: "an accepted registration's event", facts: D.facts(), commands: registration, headers: trace,
            message: "registration.accepted", traceparent: valid, tracestate: normalisedState),
        DecisionCase(
            name: "a rejection's event", facts: D.facts { $0.sponsors = [:] }, commands: registration,
            headers: trace, message: "registration.rejected", traceparent: valid, tracestate: normalisedState),
        DecisionCase(
            name: "a confirmed payment's event",
            facts: D.facts { $0.registrations[D.worker.registrationID] = D.acceptedState },
            commands: { [D.command(D.payment.body, .payment, headers: $0)] }, headers: trace,
            message: "payment.confirmed", traceparent: valid, tracestate: normalisedState),
        DecisionCase(
            name: "a replay's event carries the resend's context", facts: D.facts(),
            commands: { [D.command(D.worker.body), D.command(D.worker.body, headers: $0)] }, headers: trace,
            message: "registration.accepted", traceparent: valid, tracestate: normalisedState),
        DecisionCase(
            name: "an event without trace headers has none", facts: D.facts(), commands: registration, headers: nil,
            message: "registration.accepted", traceparent: nil, tracestate: nil),
        DecisionCase(
            name: "an invalid traceparent is not put on the event (nor its tracestate)", facts: D.facts(),
            commands: registration, headers: junk, message: "registration.accepted", traceparent: nil,
            tracestate: nil),
        DecisionCase(
            name: "a parked copy keeps the headers as they arrived", facts: D.facts(),
            commands: { [D.command(.null, headers: $0, raw: Array("nope".utf8))] }, headers: trace, message: "dead",
            traceparent: valid, tracestate: " congo=t61rcWkgMzE , rojo=00f067aa0ba902b7", keeps: ["x-portal"]),
        DecisionCase(
            name: "a parked copy keeps even an invalid traceparent (it is the evidence)", facts: D.facts(),
            commands: { [D.command(.null, headers: $0, raw: Array("nope".utf8))] }, headers: junk, message: "dead",
            traceparent: "00-not-a-trace-01", tracestate: "congo=1", keeps: ["x-portal"]),
        DecisionCase(
            name: "a conflicting duplicate's parked copy keeps the context", facts: D.facts(),
            commands: {
                [
                    D.command(D.worker.body),
                    D.command(D.worker.body.setting("worker.name", to: "Lain Orang"), headers: $0),
                ]
            }, headers: trace, message: "dead", traceparent: valid,
            tracestate: " congo=t61rcWkgMzE , rojo=00f067aa0ba902b7", keeps: ["x-portal"]),
        DecisionCase(
            name: "a retry copy carries the checked context", facts: D.facts(),
            commands: { [D.command(D.payment.body, .payment, headers: $0)] }, headers: trace, message: "retry",
            traceparent: valid, tracestate: normalisedState, keeps: ["x-portal", "x-peduli-attempt"]),
        DecisionCase(
            name: "a retry copy drops an invalid traceparent and its tracestate", facts: D.facts(),
            commands: { [D.command(D.payment.body, .payment, headers: $0)] }, headers: junk, message: "retry",
            traceparent: nil, tracestate: nil, keeps: ["x-portal", "x-peduli-attempt"]),
    ]

    @Test(arguments: decisions)
    func decision(_ c: DecisionCase) throws {
        let decision = D.decider.decide(c.commands(c.headers), facts: c.facts, at: D.now)
        let message = try #require(decision.outbox.last)
        #expect(D.summary(message) == c.message)
        let headers = message.properties.headers
        #expect(headers?["traceparent"]?.stringValue == c.traceparent)
        #expect(headers?["tracestate"]?.stringValue == c.tracestate)
        for key in c.keeps { #expect(headers?[key] != nil, "\(key)") }
        if message.exchange == D.pipeline.topology.eventsExchange {
            // An event carries the trace context and nothing else of the command's headers.
            let keys = Set(headers?.keys ?? [])
            #expect(keys.isSubset(of: ["traceparent", "tracestate"]))
        }
    }
}
