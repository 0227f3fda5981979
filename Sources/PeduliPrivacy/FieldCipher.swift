import Crypto
import Foundation

/// AES-256-GCM for one stored value: a fresh random nonce per value, the value's place (table, row identity,
/// column) as associated data so a ciphertext copied to another row or column fails to open, and the key's id
/// in the value so older keys keep working until a rotation re-encrypts under the current one.
///
/// Layout: `0x01` (format), key id (4 bytes, big-endian), nonce (12), ciphertext, tag (16).
extension DataKeys {
    static let format: UInt8 = 1
    static let overhead = 1 + 4 + 12 + 16

    public func seal(_ plaintext: [UInt8], context: String) -> [UInt8] {
        let key = keys[currentID]!
        // AES.GCM.seal only fails for a nonce or key of the wrong size, which these never are.
        let box = try! AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: Array(context.utf8))
        var out: [UInt8] = [Self.format]
        out.reserveCapacity(Self.overhead + plaintext.count)
        withUnsafeBytes(of: currentID.bigEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: box.nonce)
        out.append(contentsOf: box.ciphertext)
        out.append(contentsOf: box.tag)
        return out
    }

    public func seal(_ text: String, context: String) -> [UInt8] { seal(Array(text.utf8), context: context) }

    public func open(_ value: [UInt8], context: String) throws(DataKeyError) -> [UInt8] {
        guard value.count >= Self.overhead, value[0] == Self.format else {
            throw DataKeyError(.tampered, "a stored value of \(context) is not in the sealed format")
        }
        let id = Self.keyID(of: value)!
        guard let key = keys[id] else {
            throw DataKeyError(
                .unknownKey, "a value of \(context) is under key \(id), which the key file does not have")
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: value[5..<17]), ciphertext: value[17..<(value.count - 16)],
                tag: value[(value.count - 16)...])
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
        } catch {
            throw DataKeyError(.tampered, "a stored value of \(context) under key \(id) does not authenticate")
        }
    }

    public func openText(_ value: [UInt8], context: String) throws(DataKeyError) -> String {
        String(decoding: try open(value, context: context), as: UTF8.self)
    }

    /// The key id a stored value names, nil when it is not a sealed value.
    public static func keyID(of value: [UInt8]) -> UInt32? {
        guard value.count >= overhead, value[0] == format else { return nil }
        return value[1...4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The keyed hash a NIK is looked up by (HMAC-SHA256 under the index key): equal NIKs give equal hashes, so
    /// the database's unique constraints and look-ups work on it, and without the key it says nothing.
    public func nikHash(_ digits: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(digits.utf8), using: indexKey))
    }
}
