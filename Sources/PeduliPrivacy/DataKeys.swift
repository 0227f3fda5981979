import Crypto
import Foundation

/// Why the data keys cannot be used: a stable code and what is wrong, naming the key id and the file, never a
/// key's bytes.
public struct DataKeyError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// `security.data_keys_file` is not set, or the file cannot be read.
        case missingFile = "data_keys.missing_file"
        /// A line is not `ID BASE64` with a positive id and a 32-byte key, or an id repeats.
        case badLine = "data_keys.bad_line"
        /// A stored value names a key id the file does not have (a retired key removed too early).
        case unknownKey = "data_keys.unknown_key"
        /// A stored value fails authentication: altered, truncated, or moved from another row or column.
        case tampered = "data_keys.tampered"
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}

/// The keys that protect personal data at rest, from the key file (`security.data_keys_file`): one line
/// `ID BASE64` per 32-byte key, ids positive integers, the last line the key that encrypts new values. Older
/// keys stay in the file until `keys rotate` has re-encrypted every value under them.
///
/// The index key, under which NIKs are hashed for look-ups, is derived (HKDF-SHA256) from the key with the
/// lowest id, not from the current one: a rotation re-encrypts values but must not change the hashes the
/// constraints and look-ups rely on. That first key therefore never leaves the file (docs/operations.md).
///
/// `@unchecked Sendable`: swift-crypto 3 does not mark `SymmetricKey` Sendable, but it is an immutable value
/// (its storage is never written after creation), and this type only holds `let`s of it.
public struct DataKeys: @unchecked Sendable, Equatable {
    let keys: [UInt32: SymmetricKey]
    /// The id of the key that encrypts new values (the file's last line).
    public let currentID: UInt32
    let indexKey: SymmetricKey

    /// - Parameter file: the file's path, only for error messages.
    public static func parse(_ text: String, file: String) throws(DataKeyError) -> DataKeys {
        var keys: [UInt32: SymmetricKey] = [:]
        var last: UInt32?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            let place = "\(file) line \(index + 1)"
            guard parts.count == 2, let id = UInt32(parts[0]), id > 0 else {
                throw DataKeyError(.badLine, "\(place): expected 'ID BASE64' with a positive integer id")
            }
            guard let bytes = Data(base64Encoded: String(parts[1])), bytes.count == 32 else {
                throw DataKeyError(.badLine, "\(place): key \(id) is not 32 bytes of base64")
            }
            guard keys[id] == nil else { throw DataKeyError(.badLine, "\(place): key id \(id) appears twice") }
            keys[id] = SymmetricKey(data: bytes)
            last = id
        }
        guard let last, let lowest = keys.keys.min() else {
            throw DataKeyError(.badLine, "\(file) holds no key (append the line `peduli-worker keys generate` prints)")
        }
        return DataKeys(keys: keys, currentID: last, lowestID: lowest)
    }

    init(keys: [UInt32: SymmetricKey], currentID: UInt32, lowestID: UInt32) {
        self.keys = keys
        self.currentID = currentID
        self.indexKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: keys[lowestID]!, info: Array("peduli-worker nik index v1".utf8), outputByteCount: 32)
    }

    /// The ids of every key in the file, lowest first.
    public var keyIDs: [UInt32] { keys.keys.sorted() }

    /// A new key line to append: the next id after the file's highest, 32 random bytes.
    public static func generateLine(after existing: DataKeys?) -> String {
        let id = (existing?.keys.keys.max() ?? 0) + 1
        let key = SymmetricKey(size: .bits256)
        let base64 = key.withUnsafeBytes { Data($0).base64EncodedString() }
        return "\(id) \(base64)"
    }

    /// Keys for tests and the demo: deterministic from a seed, so two processes of one test agree.
    public static func forTesting(seed: UInt8 = 1) -> DataKeys {
        let key = SymmetricKey(data: [UInt8](repeating: seed, count: 32))
        return DataKeys(keys: [1: key], currentID: 1, lowestID: 1)
    }
}
