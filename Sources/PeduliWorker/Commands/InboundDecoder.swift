import AMQPClient
import Foundation
import PeduliDomain

/// Turns a delivery into a typed command or a parking reason: the envelope checks (`InboundCheck`), then the
/// body (JSON, an object, then the domain's field rules into a draft). No database, no broker: what can be
/// settled from the message alone is settled here, once per delivery, outside the transaction's retries.
struct InboundDecoder: Sendable {
    let check: InboundCheck
    let programme: ProgrammeConfiguration
    let topology: PipelineConfiguration.Topology

    func decode(_ inbound: InboundDelivery, now: Date) -> InboundCommand {
        let delivery = inbound.delivery
        let props = delivery.properties
        let kind = inbound.kind
        let envelope = InboundEnvelope(
            contentType: props.contentType, messageID: props.messageId, userID: props.userId,
            correlationID: props.correlationId,
            attemptHeader: props.headers?["x-peduli-attempt"]?.int64Value.map { Int(clamping: $0) },
            originalUserHeader: props.headers?["x-peduli-user-id"]?.stringValue, bodySize: delivery.body.count,
            headersDropped: delivery.headersDropped)
        var context = InboundCommand.Context(
            queue: kind == .payment ? topology.paymentsQueue : topology.registrationsQueue, kind: kind, messageID: nil,
            publisher: check.publisher(of: envelope), attempt: 0, correlationID: props.correlationId ?? props.messageId,
            delivery: delivery)
        switch check.check(envelope) {
        case .park(let reason, let detail):
            context.messageID = Self.printableID(props.messageId)
            return InboundCommand(context: context, body: .park(reason, detail: detail))
        case .accept(_, let attempt):
            context.messageID = props.messageId
            context.attempt = attempt
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(delivery.body)
        } catch {
            return InboundCommand(context: context, body: .park(.malformedJSON, detail: error.description))
        }
        guard case .object = json else {
            return InboundCommand(
                context: context,
                body: .park(.malformedJSON, detail: "the body is JSON \(json.typeName), not an object"))
        }
        let identity = String(decoding: json.commandIdentityBytes(), as: UTF8.self)
        switch kind {
        case .registration:
            let draft = RegistrationDraft.decode(json, config: programme, now: now)
            return InboundCommand(context: context, body: .registration(draft, identity: identity))
        case .payment:
            let draft = PaymentDraft.decode(json, config: programme, now: now)
            return InboundCommand(context: context, body: .payment(draft, identity: identity))
        }
    }

    /// A parked message's id as the processing log shows it: kept when it is short printable ASCII, so an
    /// operator can find the message, and dropped otherwise (it may be junk of any size).
    static func printableID(_ id: String?) -> String? {
        guard let id, !id.isEmpty, id.utf8.count <= 128, id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return nil
        }
        return id
    }
}
