import PeduliDomain

/// A parked body as an operator may see it: never a complete NIK, phone number, address or birth date.
/// NIKs are shown like the events show them (`NIK.masked`: first and last four digits); phone numbers and
/// birth dates are replaced, addresses reduced to their length. Any other string holding a run of 10 or more
/// digits (a NIK or phone number in the wrong field) is masked the same way; NIPs (`nip` fields, the civil
/// servant's public staff number, which events carry too) and ids are kept. A body that is not JSON is
/// withheld: nothing tells where personal data sits in it.
public enum BodyMasking {
    public static func masked(_ body: [UInt8], limit: Int = 2_000) -> String {
        guard let json = try? JSONParser.parse(body) else {
            return "(\(body.count) bytes, not JSON: withheld)"
        }
        let text = mask(json, key: nil).canonicalString()
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "… (\(text.count) characters)"
    }

    static func mask(_ value: JSONValue, key: String?) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(JSONObject(object.keys.map { ($0, mask(object[$0] ?? .null, key: $0)) }))
        case .array(let items):
            return .array(items.map { mask($0, key: key) })
        case .string(let text):
            return .string(maskString(text, key: key?.lowercased() ?? ""))
        case .int(let number) where number >= 1_000_000_000 || number <= -1_000_000_000:
            return .string(maskDigits(String(number)))
        case .number(let text) where text.filter(\.isNumber).count >= 10:
            return .string(maskDigitRuns(text))
        default:
            return value
        }
    }

    static func maskString(_ text: String, key: String) -> String {
        if key.contains("nik") { return maskDigits(text) }
        if key.contains("phone") || key.contains("telepon") || key == "hp" || key.contains("mobile") {
            return text.isEmpty ? text : "********"
        }
        if key.contains("address") || key.contains("alamat") {
            return text.isEmpty ? text : "(address, \(text.count) characters)"
        }
        if key.contains("birth") || key.contains("lahir") { return text.isEmpty ? text : "****-**-**" }
        if key == "nip" || key.hasSuffix("_nip") || key.hasSuffix("_id") || key == "id" { return text }
        return maskDigitRuns(text)
    }

    /// A NIK-like value: the first and last four characters of 16 (as `NIK.masked`), fewer for shorter ones.
    static func maskDigits(_ text: String) -> String {
        let characters = Array(text)
        guard characters.count >= 12 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(4)) + String(repeating: "*", count: characters.count - 8)
            + String(characters.suffix(4))
    }

    static func maskDigitRuns(_ text: String) -> String {
        var out = ""
        var run = ""
        func flush() {
            out += run.count >= 10 ? maskDigits(run) : run
            run = ""
        }
        for character in text {
            if character.isASCII, character.isNumber {
                run.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }
}
