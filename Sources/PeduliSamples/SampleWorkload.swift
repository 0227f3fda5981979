import Foundation
import PeduliDomain

/// Realistic, valid-by-default commands for the demo, the integration tests and the load generator: ASN
/// sponsors with well-formed NIPs, workers with NIKs consistent with their birth dates and sex, catalogue
/// occupations and kelurahan, and payments whose amounts match the rate. Deterministic for a seed, and unique
/// by construction (index → NIK/NIP), so 175,047 registrations never collide.
public struct SampleWorkload: Sendable {
    public struct Sponsor: Sendable, Hashable {
        public var nip: String
        public var name: String
        public var unit: String
        public var active: Bool
    }

    public struct Registration: Sendable {
        public var registrationID: UUID
        public var nik: String
        public var birthDate: JakartaDate
        public var sponsorNIP: String
        public var submittedAt: Date
        public var body: JSONValue
    }

    public struct Payment: Sendable {
        public var paymentID: String
        public var registrationID: UUID
        public var months: Int
        public var amount: Int64
        public var body: JSONValue
    }

    public static let units = [
        "Dinas Tenaga Kerja", "Dinas Kesehatan", "Dinas Pendidikan", "Dinas Perhubungan", "Badan Keuangan Daerah",
        "Dinas Sosial", "Dinas Pekerjaan Umum", "Sekretariat Daerah", "Dinas Koperasi dan UMKM",
        "Kecamatan Semarang Tengah",
        "RSUD K.R.M.T. Wongsonegoro", "Dinas Lingkungan Hidup",
    ]
    static let givenNames = [
        "Siti", "Budi", "Agus", "Sri", "Dewi", "Slamet", "Wahyu", "Eko", "Rina", "Tri", "Joko", "Ani", "Bambang",
        "Nur", "Yuli", "Hadi", "Endang", "Sutrisno", "Lestari", "Rahmat", "Puji", "Kartini", "Mulyono", "Suparmi",
    ]
    static let familyNames = [
        "Aminah", "Santoso", "Wibowo", "Rahayu", "Susanto", "Hidayat", "Purnomo", "Handayani", "Setiawan",
        "Kurniawati", "Prasetyo", "Wulandari", "Nugroho", "Maryati", "Saputra", "Suryani",
    ]
    /// The programme's typical occupations (docs/rules.md maps the city's examples to these codes).
    public static let occupations = ["P004", "P050", "P001", "P003", "P070", "P031", "P005"]

    public let reference: Date
    private let kelurahanByKecamatan: [String: [String]]
    private let kecamatanCodes: [String]

    /// - Parameter reference: the "now" the commands are built around (submitted/paid a little before it).
    public init(reference: Date = Date(), catalogues: Catalogues = .builtIn) {
        self.reference = reference
        var byKecamatan: [String: [String]] = [:]
        for k in catalogues.kelurahan.values { byKecamatan[k.kecamatanCode, default: []].append(k.code) }
        for key in byKecamatan.keys { byKecamatan[key]!.sort() }
        self.kelurahanByKecamatan = byKecamatan
        self.kecamatanCodes = catalogues.kecamatan.keys.sorted()
    }

    /// A PNS sponsor; NIPs are unique per index up to 8,991,000.
    public func sponsor(_ index: Int, active: Bool = true) -> Sponsor {
        let birth = JakartaDate(year: 1965, month: 1, clampingDay: 1).adding(days: index % 9000)
        let serial = (index / 9000) % 999 + 1
        let female = index % 2 == 1
        let tmtYear = birth.year + 22 + index % 6
        let nip =
            pad(birth.year, 4) + pad(birth.month, 2) + pad(birth.day, 2) + pad(tmtYear, 4)
            + pad(index % 12 + 1, 2) + (female ? "2" : "1") + pad(serial, 3)
        return Sponsor(
            nip: nip, name: name(index &* 7 &+ 3), unit: Self.units[index % Self.units.count], active: active)
    }

    /// A valid registration for worker number `index` (NIKs unique per index up to about 2.4 × 10^9).
    public func registration(_ index: Int, sponsor: Sponsor, submittedAt: Date? = nil) -> Registration {
        let id = Self.uuid(namespace: 0x5245_4749, index)
        // Ages 19 to 59 at the reference date; the day offset and serial make the NIK unique.
        let days = index % 15_000
        let birth = JakartaDate(reference).adding(days: -(19 * 366 + days))
        let female = index % 2 == 0
        let serial = (index / 15_000) % 9999 + 1
        let kecamatan = kecamatanCodes[(index / (15_000 * 9999)) % kecamatanCodes.count]
        let region = Int(kecamatan.suffix(4))!
        let nik = NIK.build(province: 33, region: region, birthDate: birth, female: female, serial: serial)
        let workKecamatan = kecamatanCodes[index % kecamatanCodes.count]
        let kelurahan = kelurahanByKecamatan[workKecamatan]?.first.map { _ in
            kelurahanByKecamatan[workKecamatan]![index % kelurahanByKecamatan[workKecamatan]!.count]
        }
        let submitted = submittedAt ?? reference.addingTimeInterval(-60)
        var location: [(String, JSONValue)] = [("kecamatan", .string(workKecamatan))]
        if let kelurahan { location.append(("kelurahan", .string(kelurahan))) }
        location.append(("address", .string("Jl. Contoh No. \(index % 200 + 1)")))
        let body: JSONValue = .object(
            JSONObject([
                ("schema_version", .int(1)),
                ("registration_id", .string(id.uuidString.lowercased())),
                ("submitted_at", .string(RFC3339.format(submitted))),
                (
                    "sponsor",
                    .object(
                        JSONObject([
                            ("nip", .string(sponsor.nip)), ("name", .string(sponsor.name)),
                            ("unit", .string(sponsor.unit)),
                        ]))
                ),
                (
                    "worker",
                    .object(
                        JSONObject([
                            ("nik", .string(nik)),
                            ("name", .string(name(index))),
                            ("birth_date", .string(birth.description)),
                            ("gender", .string(female ? "P" : "L")),
                            ("phone", .string("08" + pad(12_000_000 + index % 87_999_999, 10))),
                            ("occupation", .string(Self.occupations[index % Self.occupations.count])),
                            ("work_status", .string(["own_account", "casual", "contributing_family"][index % 3])),
                            ("actively_working", .bool(true)),
                            ("work_location", .object(JSONObject(location))),
                        ]))
                ),
                ("source", .string(["neighbourhood", "family", "verified_data"][index % 3])),
            ]))
        return Registration(
            registrationID: id, nik: nik, birthDate: birth, sponsorNIP: sponsor.nip, submittedAt: submitted, body: body)
    }

    /// A valid payment for a registration: `months` × Rp 16,800 (the rate in force at `paidAt`).
    public func payment(
        _ index: Int, for registration: Registration, payer: Sponsor, months: Int = 3,
        paidAt: Date? = nil, rates: ContributionRates = .default
    ) -> Payment {
        let paid = paidAt ?? reference.addingTimeInterval(-30)
        let monthly = rates.monthlyAmount(at: paid) ?? 16_800
        let day = JakartaDate(paid)
        let id = "BJTG-\(pad(day.year, 4))\(pad(day.month, 2))\(pad(day.day, 2))-\(pad(index, 7))"
        let amount = monthly * Int64(months)
        let body: JSONValue = .object(
            JSONObject([
                ("schema_version", .int(1)),
                ("payment_id", .string(id)),
                ("registration_id", .string(registration.registrationID.uuidString.lowercased())),
                ("payer_nip", .string(payer.nip)),
                ("months", .int(Int64(months))),
                ("amount", .int(amount)),
                ("paid_at", .string(RFC3339.format(paid))),
                ("channel", .string(["autodebet", "virtual_account", "qris", "teller"][index % 4])),
            ]))
        return Payment(
            paymentID: id, registrationID: registration.registrationID, months: months, amount: amount, body: body)
    }

    func name(_ index: Int) -> String {
        Self.givenNames[index % Self.givenNames.count] + " "
            + Self.familyNames[(index / Self.givenNames.count) % Self.familyNames.count]
    }

    /// A stable UUID for (namespace, index), so a rerun of a scenario produces the same ids.
    public static func uuid(namespace: UInt32, _ index: Int) -> UUID {
        let i = UInt64(bitPattern: Int64(index))
        var bytes = [UInt8](repeating: 0, count: 16)
        for k in 0..<4 { bytes[k] = UInt8(truncatingIfNeeded: namespace >> (24 - 8 * UInt32(k))) }
        for k in 0..<8 { bytes[8 + k] = UInt8(truncatingIfNeeded: i >> (56 - 8 * UInt64(k))) }
        bytes[6] = 0x40 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

extension JSONValue {
    /// A copy with the value at a dotted path replaced (or removed with nil): for building invalid variants.
    public func setting(_ path: String, to value: JSONValue?) -> JSONValue {
        let parts = path.split(separator: ".").map(String.init)
        return Self.set(self, parts[...], value)
    }

    private static func set(_ json: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue?) -> JSONValue {
        guard case .object(var o) = json, let head = path.first else { return json }
        if path.count == 1 {
            o[head] = value
        } else if let inner = o[head] {
            o[head] = set(inner, path.dropFirst(), value)
        }
        return .object(o)
    }
}
