import Foundation

@testable import PeduliDomain

/// Test helpers shared by the domain tests.
func date(_ text: String) -> JakartaDate { JakartaDate.parse(text)! }
func instant(_ text: String) -> Date { RFC3339.parse(text)! }
func ym(_ text: String) -> YearMonth { YearMonth.parse(text)! }

let config = ProgrammeConfiguration.default

/// A registration that passes every rule, submitted 2026-11-20 09:15 WIB.
let validRegistrationText = """
    {
      "schema_version": 1,
      "registration_id": "3F0E1C3A-8D4B-4D7E-9D8A-2F6C1B7E9A10",
      "submitted_at": "2026-11-20T09:15:00+07:00",
      "sponsor": { "nip": "198503152010011002", "name": "Budi Santoso", "unit": "Dinas Tenaga Kerja" },
      "worker": {
        "nik": "3374015203800001",
        "name": "  Siti   Aminah ",
        "birth_date": "1980-03-12",
        "gender": "P",
        "phone": "0812-3456-7890",
        "occupation": "P050",
        "work_status": "own_account",
        "actively_working": true,
        "work_location": { "kecamatan": "337401", "kelurahan": "3374011001", "address": "Jl. Pemuda 1" }
      },
      "source": "neighbourhood"
    }
    """

let validPaymentText = """
    {
      "schema_version": 1,
      "payment_id": "BJTG-20261201-000123",
      "registration_id": "3f0e1c3a-8d4b-4d7e-9d8a-2f6c1b7e9a10",
      "payer_nip": "198503152010011002",
      "months": 3,
      "amount": 50400,
      "paid_at": "2026-12-01T07:00:00+07:00",
      "channel": "autodebet"
    }
    """

let registrationNow = instant("2026-11-20T09:16:00+07:00")
let paymentNow = instant("2026-12-01T07:01:00+07:00")

func parse(_ text: String) -> JSONValue { try! JSONParser.parse(text) }

extension JSONValue {
    /// A copy with the value at a dotted path replaced (nil removes the key).
    func setting(_ path: String, _ value: JSONValue?) -> JSONValue {
        let parts = path.split(separator: ".").map(String.init)
        return setting(parts[...], value)
    }

    private func setting(_ parts: ArraySlice<String>, _ value: JSONValue?) -> JSONValue {
        guard case .object(var o) = self, let head = parts.first else { return self }
        if parts.count == 1 {
            o[head] = value
        } else {
            o[head] = (o[head] ?? .object(JSONObject())).setting(parts.dropFirst(), value)
        }
        return .object(o)
    }
}

func registration(_ changes: [(String, JSONValue?)] = []) -> JSONValue {
    changes.reduce(parse(validRegistrationText)) { $0.setting($1.0, $1.1) }
}

func payment(_ changes: [(String, JSONValue?)] = []) -> JSONValue {
    changes.reduce(parse(validPaymentText)) { $0.setting($1.0, $1.1) }
}

func codes(_ violations: [RuleViolation]) -> [String] { violations.map { "\($0.field):\($0.code.rawValue)" } }

let activeFacts = RegistrationFacts(sponsor: .active)
