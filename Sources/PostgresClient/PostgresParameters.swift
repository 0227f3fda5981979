import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension PostgresConnection {
    /// Parameters as owned C strings, alive for the whole libpq call.
    final class EncodedParameters {
        let texts: [UnsafeMutablePointer<CChar>?]
        let types: [UInt32]

        init(texts: [UnsafeMutablePointer<CChar>?], types: [UInt32]) {
            self.texts = texts
            self.types = types
        }

        func withCArrays<R>(
            _ body: (Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
        ) -> R {
            let pointers = texts.map { UnsafePointer($0) }
            return pointers.withUnsafeBufferPointer { values in
                types.withUnsafeBufferPointer { types in
                    body(Int32(texts.count), types.baseAddress, values.baseAddress)
                }
            }
        }

        deinit { texts.forEach { free($0) } }
    }

    static func encode(_ parameters: [PostgresValue?], operation: String) throws -> EncodedParameters {
        guard parameters.count <= Int(UInt16.max) else {
            throw PostgresError(
                code: .invalidParameter, operation: operation, message: "more than 65535 parameters")
        }
        var texts: [UnsafeMutablePointer<CChar>?] = []
        var types: [UInt32] = []
        texts.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            guard let parameter else {
                texts.append(nil)
                types.append(0)
                continue
            }
            var text = parameter.postgresText
            // One memchr and one memcpy over the contiguous UTF-8 (a byte-by-byte `utf8.contains(0)`
            // followed by strdup was 4 % of the worker's CPU in a backlog).
            let copy = text.withUTF8 { bytes -> UnsafeMutablePointer<CChar>? in
                if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil { return nil }
                // malloc, like the strdup it replaces: EncodedParameters frees with free().
                let buffer = malloc(bytes.count + 1)!.assumingMemoryBound(to: CChar.self)
                if let base = bytes.baseAddress { memcpy(buffer, base, bytes.count) }
                buffer[bytes.count] = 0
                return buffer
            }
            guard let copy else {
                texts.forEach { free($0) }
                throw PostgresError(
                    code: .invalidParameter, operation: operation,
                    message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot store")
            }
            texts.append(copy)
            types.append(parameter.postgresTypeOID)
        }
        return EncodedParameters(texts: texts, types: types)
    }
}
