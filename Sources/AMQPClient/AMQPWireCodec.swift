internal import CRabbitMQ

/// The AMQP wire form of a field table, through librabbitmq's own codec: how the worker stores headers it
/// will publish again (the outbox), so that what it received is what it re-publishes, whatever the nesting,
/// and what tests use to prove the C representation round-trips. `decode` recurses in librabbitmq as deep as
/// the table nests: call it on a thread with `AMQPConfiguration.threadStackSize`, or on tables known to be
/// shallow (the worker stores only headers within `AMQPHeaderLimits`).
public enum AMQPWireCodec {
    public static func encode(_ table: AMQPTable) throws -> [UInt8] {
        try encode(table, capacity: AMQPWireSize.table(table))
    }

    static func encode(_ table: AMQPTable, capacity: Int) throws -> [UInt8] {
        let arena = CArena()
        var cTable = arena.table(table)
        var buffer = [UInt8](repeating: 0, count: capacity)
        var offset = 0
        let status = buffer.withUnsafeMutableBytes { raw in
            amqp_encode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &cTable, &offset)
        }
        withExtendedLifetime(arena) {}
        guard status == 0 else {
            throw AMQPError(
                code: .invalidArgument, operation: "encode table",
                libraryStatus: String(cString: amqp_error_string2(status)))
        }
        return Array(buffer[..<offset])
    }

    public static func decode(_ encoded: [UInt8]) throws -> AMQPTable {
        var pool = amqp_pool_t()
        init_amqp_pool(&pool, 4096)
        defer { empty_amqp_pool(&pool) }
        var copy = encoded
        var table = amqp_table_t()
        var offset = 0
        let status = copy.withUnsafeMutableBytes { raw in
            amqp_decode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &pool, &table, &offset)
        }
        guard status == 0 else {
            throw AMQPError(
                code: .protocolError, operation: "decode table",
                libraryStatus: String(cString: amqp_error_string2(status)))
        }
        var budget = CDecode.Budget(limits: CDecode.trustedLimits)
        guard let decoded = CDecode.table(table, depth: 1, budget: &budget) else {
            throw AMQPError(code: .protocolError, operation: "decode table", detail: budget.violation)
        }
        return decoded
    }
}
