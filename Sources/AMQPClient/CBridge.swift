internal import CRabbitMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Owns every C buffer built for one librabbitmq call. librabbitmq only borrows the bytes of
/// `amqp_bytes_t` and tables, so they must outlive the whole call: build everything through an
/// arena and keep the arena alive (`withExtendedLifetime`) until the call returns; the arena frees it
/// all in `deinit`. (`amqp_cstring_bytes` on a Swift String would dangle.)
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    private func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        guard let pointer = malloc(max(size, 1)) else { fatalError("out of memory") }
        allocations.append(pointer)
        return pointer
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        if array.isEmpty { return amqp_bytes_t(len: 0, bytes: nil) }
        let pointer = allocate(array.count)
        array.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return amqp_bytes_t(len: array.count, bytes: pointer)
    }

    func bytes(_ string: String) -> amqp_bytes_t { bytes(Array(string.utf8)) }

    /// NUL-terminated copy (for the few C-string parameters: host, vhost, user, password, files).
    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8)
        let pointer = allocate(utf8.count + 1).bindMemory(to: CChar.self, capacity: utf8.count + 1)
        for (index, byte) in utf8.enumerated() { pointer[index] = CChar(bitPattern: byte) }
        pointer[utf8.count] = 0
        return UnsafePointer(pointer)
    }

    func table(_ table: AMQPTable?) -> amqp_table_t {
        guard let table, !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (index, entry) in table.entries.enumerated() {
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(entry.key), value: fieldValue(entry.value)))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    func fieldValue(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: k.rawValue) }
        switch value {
        case .bool(let v): field.kind = kind(AMQP_FIELD_KIND_BOOLEAN); field.value.boolean = v ? 1 : 0
        case .int8(let v): field.kind = kind(AMQP_FIELD_KIND_I8); field.value.i8 = v
        case .int16(let v): field.kind = kind(AMQP_FIELD_KIND_I16); field.value.i16 = v
        case .int32(let v): field.kind = kind(AMQP_FIELD_KIND_I32); field.value.i32 = v
        case .int64(let v): field.kind = kind(AMQP_FIELD_KIND_I64); field.value.i64 = v
        case .uint8(let v): field.kind = kind(AMQP_FIELD_KIND_U8); field.value.u8 = v
        case .uint16(let v): field.kind = kind(AMQP_FIELD_KIND_U16); field.value.u16 = v
        case .uint32(let v): field.kind = kind(AMQP_FIELD_KIND_U32); field.value.u32 = v
        case .float(let v): field.kind = kind(AMQP_FIELD_KIND_F32); field.value.f32 = v
        case .double(let v): field.kind = kind(AMQP_FIELD_KIND_F64); field.value.f64 = v
        case .decimal(let scale, let v):
            field.kind = kind(AMQP_FIELD_KIND_DECIMAL)
            field.value.decimal = amqp_decimal_t(decimals: scale, value: v)
        case .string(let v): field.kind = kind(AMQP_FIELD_KIND_UTF8); field.value.bytes = bytes(v)
        case .bytes(let v): field.kind = kind(AMQP_FIELD_KIND_BYTES); field.value.bytes = bytes(v)
        case .stringBytes(let v): field.kind = kind(AMQP_FIELD_KIND_UTF8); field.value.bytes = bytes(v)
        case .array(let values):
            field.kind = kind(AMQP_FIELD_KIND_ARRAY)
            if values.isEmpty {
                field.value.array = amqp_array_t(num_entries: 0, entries: nil)
            } else {
                let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * values.count)
                    .bindMemory(to: amqp_field_value_t.self, capacity: values.count)
                for (index, element) in values.enumerated() { (entries + index).initialize(to: fieldValue(element)) }
                field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries)
            }
        case .table(let t): field.kind = kind(AMQP_FIELD_KIND_TABLE); field.value.table = table(t)
        case .timestamp(let v): field.kind = kind(AMQP_FIELD_KIND_TIMESTAMP); field.value.u64 = v
        case .void: field.kind = kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    func properties(_ p: AMQPProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: UInt32 = 0
        func set(_ flag: Int32) { flags |= UInt32(flag) }
        if let v = p.contentType { c.content_type = bytes(v); set(AMQP_BASIC_CONTENT_TYPE_FLAG) }
        if let v = p.contentEncoding { c.content_encoding = bytes(v); set(AMQP_BASIC_CONTENT_ENCODING_FLAG) }
        if let v = p.headers { c.headers = table(v); set(AMQP_BASIC_HEADERS_FLAG) }
        if let v = p.deliveryMode { c.delivery_mode = v; set(AMQP_BASIC_DELIVERY_MODE_FLAG) }
        if let v = p.priority { c.priority = v; set(AMQP_BASIC_PRIORITY_FLAG) }
        if let v = p.correlationId { c.correlation_id = bytes(v); set(AMQP_BASIC_CORRELATION_ID_FLAG) }
        if let v = p.replyTo { c.reply_to = bytes(v); set(AMQP_BASIC_REPLY_TO_FLAG) }
        if let v = p.expiration { c.expiration = bytes(v); set(AMQP_BASIC_EXPIRATION_FLAG) }
        if let v = p.messageId { c.message_id = bytes(v); set(AMQP_BASIC_MESSAGE_ID_FLAG) }
        if let v = p.timestamp { c.timestamp = v; set(AMQP_BASIC_TIMESTAMP_FLAG) }
        if let v = p.type { c.type = bytes(v); set(AMQP_BASIC_TYPE_FLAG) }
        if let v = p.userId { c.user_id = bytes(v); set(AMQP_BASIC_USER_ID_FLAG) }
        if let v = p.appId { c.app_id = bytes(v); set(AMQP_BASIC_APP_ID_FLAG) }
        if let v = p.clusterId { c.cluster_id = bytes(v); set(AMQP_BASIC_CLUSTER_ID_FLAG) }
        c._flags = flags
        return c
    }
}

/// Copies out of librabbitmq's pool memory into Swift values (which must happen before
/// `amqp_maybe_release_buffers` / `amqp_destroy_envelope`).
enum CDecode {
    static func bytes(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let base = b.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: b.len))
    }

    static func string(_ b: amqp_bytes_t) -> String {
        String(decoding: bytes(b), as: UTF8.self)
    }

    /// Counts what a copy has taken so far and stops it at the first limit broken. The copy recurses once per
    /// level, so the depth limit also bounds the stack it uses.
    struct Budget {
        let limits: AMQPHeaderLimits
        var entries = 0
        var violation: String?

        mutating func enter(depth: Int, entries count: Int) -> Bool {
            if violation != nil { return false }
            if depth > limits.maxDepth {
                violation = "header tables nested deeper than \(limits.maxDepth) levels"
                return false
            }
            entries += count
            if entries > limits.maxEntries {
                violation = "more than \(limits.maxEntries) header entries"
                return false
            }
            return true
        }
    }

    static func table(_ t: amqp_table_t, depth: Int, budget: inout Budget) -> AMQPTable? {
        guard t.num_entries > 0, let entries = t.entries else { return AMQPTable() }
        guard budget.enter(depth: depth, entries: Int(t.num_entries)) else { return nil }
        var result = AMQPTable()
        result.entries.reserveCapacity(Int(t.num_entries))
        for index in 0..<Int(t.num_entries) {
            let entry = entries[index]
            guard let value = fieldValue(entry.value, depth: depth, budget: &budget) else { return nil }
            result.entries.append(.init(key: string(entry.key), value: value))
        }
        return result
    }

    /// Tables the broker or the worker itself built (not a publisher's headers) are copied up to this depth.
    static let trustedLimits = AMQPHeaderLimits(maxDepth: 64, maxEntries: .max, maxBytes: .max)

    /// `depth` is the level of the table or array holding the value.
    static func fieldValue(_ field: amqp_field_value_t, depth: Int, budget: inout Budget) -> AMQPFieldValue? {
        func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: k.rawValue) }
        switch field.kind {
        case kind(AMQP_FIELD_KIND_BOOLEAN): return .bool(field.value.boolean != 0)
        case kind(AMQP_FIELD_KIND_I8): return .int8(field.value.i8)
        case kind(AMQP_FIELD_KIND_I16): return .int16(field.value.i16)
        case kind(AMQP_FIELD_KIND_I32): return .int32(field.value.i32)
        case kind(AMQP_FIELD_KIND_I64): return .int64(field.value.i64)
        case kind(AMQP_FIELD_KIND_U8): return .uint8(field.value.u8)
        case kind(AMQP_FIELD_KIND_U16): return .uint16(field.value.u16)
        case kind(AMQP_FIELD_KIND_U32): return .uint32(field.value.u32)
        // Type `L` is not RabbitMQ's, but be total: keep the bits rather than fail.
        case kind(AMQP_FIELD_KIND_U64): return .int64(Int64(bitPattern: field.value.u64))
        case kind(AMQP_FIELD_KIND_F32): return .float(field.value.f32)
        case kind(AMQP_FIELD_KIND_F64): return .double(field.value.f64)
        case kind(AMQP_FIELD_KIND_DECIMAL):
            return .decimal(scale: field.value.decimal.decimals, value: field.value.decimal.value)
        case kind(AMQP_FIELD_KIND_UTF8):
            let raw = bytes(field.value.bytes)
            if let s = String(validating: raw, as: UTF8.self) { return .string(s) }
            return .stringBytes(raw)
        case kind(AMQP_FIELD_KIND_BYTES): return .bytes(bytes(field.value.bytes))
        case kind(AMQP_FIELD_KIND_ARRAY):
            let array = field.value.array
            guard array.num_entries > 0, let entries = array.entries else { return .array([]) }
            guard budget.enter(depth: depth + 1, entries: Int(array.num_entries)) else { return nil }
            var items: [AMQPFieldValue] = []
            items.reserveCapacity(Int(array.num_entries))
            for index in 0..<Int(array.num_entries) {
                guard let item = fieldValue(entries[index], depth: depth + 1, budget: &budget) else { return nil }
                items.append(item)
            }
            return .array(items)
        case kind(AMQP_FIELD_KIND_TABLE):
            if field.value.table.num_entries == 0 { return .table(AMQPTable()) }
            return table(field.value.table, depth: depth + 1, budget: &budget).map { .table($0) }
        case kind(AMQP_FIELD_KIND_TIMESTAMP): return .timestamp(field.value.u64)
        default: return .void
        }
    }

    /// The properties, with the headers only when they keep within `limits`; otherwise `dropped` says why.
    static func properties(_ c: amqp_basic_properties_t, limits: AMQPHeaderLimits) -> (AMQPProperties, dropped: String?)
    {
        var p = properties(c, headers: false)
        guard c._flags & UInt32(AMQP_BASIC_HEADERS_FLAG) != 0 else { return (p, nil) }
        var budget = Budget(limits: limits)
        guard let headers = table(c.headers, depth: 1, budget: &budget) else {
            return (p, budget.violation ?? "headers could not be read")
        }
        let size = AMQPWireSize.table(headers)
        if size > limits.maxBytes { return (p, "headers of \(size) bytes, more than \(limits.maxBytes)") }
        p.headers = headers
        return (p, nil)
    }

    static func properties(_ c: amqp_basic_properties_t, headers: Bool = true) -> AMQPProperties {
        let flags = c._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        var p = AMQPProperties()
        if has(AMQP_BASIC_CONTENT_TYPE_FLAG) { p.contentType = string(c.content_type) }
        if has(AMQP_BASIC_CONTENT_ENCODING_FLAG) { p.contentEncoding = string(c.content_encoding) }
        if headers && has(AMQP_BASIC_HEADERS_FLAG) {
            var budget = Budget(limits: trustedLimits)
            p.headers = table(c.headers, depth: 1, budget: &budget)
        }
        if has(AMQP_BASIC_DELIVERY_MODE_FLAG) { p.deliveryMode = c.delivery_mode }
        if has(AMQP_BASIC_PRIORITY_FLAG) { p.priority = c.priority }
        if has(AMQP_BASIC_CORRELATION_ID_FLAG) { p.correlationId = string(c.correlation_id) }
        if has(AMQP_BASIC_REPLY_TO_FLAG) { p.replyTo = string(c.reply_to) }
        if has(AMQP_BASIC_EXPIRATION_FLAG) { p.expiration = string(c.expiration) }
        if has(AMQP_BASIC_MESSAGE_ID_FLAG) { p.messageId = string(c.message_id) }
        if has(AMQP_BASIC_TIMESTAMP_FLAG) { p.timestamp = c.timestamp }
        if has(AMQP_BASIC_TYPE_FLAG) { p.type = string(c.type) }
        if has(AMQP_BASIC_USER_ID_FLAG) { p.userId = string(c.user_id) }
        if has(AMQP_BASIC_APP_ID_FLAG) { p.appId = string(c.app_id) }
        if has(AMQP_BASIC_CLUSTER_ID_FLAG) { p.clusterId = string(c.cluster_id) }
        return p
    }
}

extension Duration {
    /// For librabbitmq's `struct timeval` deadlines (negative becomes zero).
    var timeval: timeval {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) { return .init(tv_sec: 0, tv_usec: 0) }
        return .init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
