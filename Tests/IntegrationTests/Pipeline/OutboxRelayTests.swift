import Foundation
import PeduliTestSupport
import PostgresClient
import Testing

@testable import PeduliWorker

/// The relay's batches: bounded by rows and by body bytes, oldest first, never empty while rows wait.
@Suite struct OutboxRelayTests {
    @Test(
        arguments: [
            // (body sizes in order, row limit, byte limit, ids expected)
            ([100, 100, 100], 500, 1_000, 3),
            ([100, 100, 100], 2, 1_000, 2),
            ([400, 400, 400, 400], 500, 1_000, 3),  // starts at 0, 400, 800 are below 1,000; 1,200 is not
            ([5_000, 10, 10], 500, 1_000, 1),  // a body over the limit goes out alone
            ([10, 5_000, 10], 500, 1_000, 2),  // ... and ends the batch it joins
        ] as [([Int], Int, Int, Int)])
    func batchesAreBoundedByRowsAndBytes(sizes: [Int], rows: Int, bytes: Int, expected: Int) throws {
        let h = try PipelineHarness()
        defer { h.tearDown() }
        for size in sizes {
            _ = try h.sql(
                "INSERT INTO outbox (exchange, routing_key, properties, body) VALUES ('x', 'k', '', decode(repeat('ab', $1), 'hex'))",
                [size])
        }
        let batch = try h.sql(OutboxRelay.nextBatch, [rows, bytes])
        let ids = try batch.map { try $0.int64("id") }
        let all = try h.sql("SELECT id FROM outbox ORDER BY id").map { try $0.int64("id") }
        #expect(ids == Array(all.prefix(expected)))
        #expect(try batch.map { try $0.bytes("body").count } == Array(sizes.prefix(expected)))
    }
}
