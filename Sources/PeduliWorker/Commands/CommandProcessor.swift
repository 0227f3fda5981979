import AMQPClient
import Foundation
import Logging
import PeduliDomain
import PeduliPrivacy
import PostgresClient

/// The thin loop around a batch: decode, then look up, decide and write in one transaction, with the retry
/// and isolation policy. The parts are `InboundDecoder`, `CommandStore` and `BatchDecider`; this type only
/// chooses what to run again.
///
/// The transaction has four round trips whatever the batch size: BEGIN, one pipeline of look-ups, one
/// pipeline of writes, COMMIT. What another instance does at the same moment is caught by the schema's
/// constraints: the batch is then decided again from fresh facts, and if it still fails (a message that breaks
/// every time), each message is decided alone so only the bad one goes back to the queue (where
/// `x-delivery-limit` eventually parks it).
final class CommandProcessor {
    let db: PostgresConnection
    let decoder: InboundDecoder
    let decider: BatchDecider
    let store: CommandStore
    let logger: Logger
    let now: () -> Date

    /// - Throws: `WorkerError` `data_keys_missing` when the pipeline has no data keys.
    init(
        db: PostgresConnection, programme: ProgrammeConfiguration, pipeline: PipelineConfiguration,
        workerUser: String?, logger: Logger, now: @escaping () -> Date = Date.init
    ) throws {
        self.db = db
        self.store = CommandStore(keys: try DataKeys.required(pipeline.dataKeys, for: "decide commands"))
        self.decoder = InboundDecoder(
            check: InboundCheck(
                allowedPublishers: pipeline.allowedPublishers, maxMessageBytes: pipeline.maxMessageBytes,
                workerUser: workerUser),
            programme: programme, topology: pipeline.topology)
        self.decider = BatchDecider(programme: programme, pipeline: pipeline, workerUser: workerUser)
        self.logger = logger
        self.now = now
    }

    typealias Disposition = ConsumerStateMachine<InboundDelivery>.Disposition

    /// Decides and commits a batch. Throws only when the database is unreachable or the commit's outcome is
    /// unknown: then nothing may be acknowledged, and the caller retries the same batch after reconnecting
    /// (the inbox turns whatever did commit into no-ops).
    func process(_ deliveries: [InboundDelivery]) throws -> [Disposition] {
        let decodedAt = now()
        let commands = deliveries.map { decoder.decode($0, now: decodedAt) }
        var attempt = 0
        while true {
            do {
                try runTransaction(commands)
                return Array(repeating: .ack, count: deliveries.count)
            } catch let error as PostgresError where error.category == .connectionLost {
                throw error
            } catch {
                attempt += 1
                PipelineMetrics.batchRetried(Self.retryReason(error))
                logger.warning(
                    "batch failed; deciding it again",
                    metadata: [
                        "error": "\(error)", "attempt": "\(attempt)", "size": "\(deliveries.count)",
                    ])
                if attempt >= 3 { break }
            }
        }
        // Isolation: each message alone, so one that fails every time cannot hold the others back.
        var dispositions: [Disposition] = []
        for command in commands {
            do {
                try runTransaction([command])
                dispositions.append(.ack)
            } catch let error as PostgresError where error.category == .connectionLost {
                throw error
            } catch {
                logger.error(
                    "message failed on its own; returned to its queue",
                    metadata: [
                        "message_id": "\(command.context.messageID ?? "-")", "error": "\(error)",
                    ])
                dispositions.append(.requeue)
            }
        }
        return dispositions
    }

    private func runTransaction(_ batch: [InboundCommand]) throws {
        let started = ContinuousClock.now
        let decision = try db.transaction { db in
            let facts = try store.lookUp(batch, on: db)
            let decision = decider.decide(batch, facts: facts, at: now())
            try store.write(decision, on: db)
            return decision
        }
        let elapsed = ContinuousClock.now - started
        PipelineMetrics.batch(size: batch.count, commitSeconds: elapsed.seconds)
        PipelineMetrics.record(decision)
    }

    /// The `reason` label of `peduli_batch_retries_total`: the database's error category, or the claim.
    static func retryReason(_ error: any Error) -> String {
        if error is ConcurrentClaimError { return "concurrent_claim" }
        return (error as? PostgresError)?.category.rawValue ?? "other"
    }
}
