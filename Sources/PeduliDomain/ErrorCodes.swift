/// Every error code of docs/rules.md and docs/contract.md's field errors. The raw value is the stable
/// machine value that appears in events; never rename one.
public enum RuleCode: String, Sendable, Hashable, CaseIterable {
    case missingField = "missing_field"
    case invalidType = "invalid_type"
    case unsupportedSchemaVersion = "unsupported_schema_version"
    case invalidFormat = "invalid_format"
    case inFuture = "in_future"
    case invalidNIP = "invalid_nip"
    case unknownSponsor = "unknown_sponsor"
    case inactiveSponsor = "inactive_sponsor"
    case invalidNIK = "invalid_nik"
    case invalidName = "invalid_name"
    case invalidDate = "invalid_date"
    case invalidValue = "invalid_value"
    case invalidPhone = "invalid_phone"
    case unknownOccupation = "unknown_occupation"
    case ineligibleOccupation = "ineligible_occupation"
    case excludedWorkStatus = "excluded_work_status"
    case notActivelyWorking = "not_actively_working"
    case outsideProgrammeArea = "outside_programme_area"
    case invalidKelurahan = "invalid_kelurahan"
    case invalidAddress = "invalid_address"
    case nikBirthDateMismatch = "nik_birth_date_mismatch"
    case nikGenderMismatch = "nik_gender_mismatch"
    case ageAboveLimit = "age_above_limit"
    case ageBelowMinimum = "age_below_minimum"
    case alreadyRegistered = "already_registered"
    case coveredByOtherScheme = "covered_by_other_scheme"
    case unknownRegistration = "unknown_registration"
    case registrationNotAccepted = "registration_not_accepted"
    case membershipEnded = "membership_ended"
    case invalidMonths = "invalid_months"
    case amountMismatch = "amount_mismatch"
    case exceedsAgeLimit = "exceeds_age_limit"
    case paidBeforeRegistration = "paid_before_registration"

    /// The generic Indonesian message; `RuleViolation` factories add specifics where the
    /// civil servant needs them (expected amount, months left, the age limit).
    public var defaultMessage: String {
        switch self {
        case .missingField: "Kolom wajib belum diisi"
        case .invalidType: "Jenis isian tidak sesuai"
        case .unsupportedSchemaVersion: "Versi format pesan tidak didukung (harus 1)"
        case .invalidFormat: "Format isian tidak valid"
        case .inFuture: "Waktu tidak boleh di masa depan"
        case .invalidNIP: "NIP tidak valid"
        case .unknownSponsor: "NIP tidak terdaftar sebagai ASN peserta program"
        case .inactiveSponsor: "ASN dengan NIP ini tidak aktif"
        case .invalidNIK: "NIK tidak valid"
        case .invalidName: "Nama harus 1–100 karakter berupa huruf, spasi, titik, koma, apostrof atau tanda hubung"
        case .invalidDate: "Tanggal lahir tidak valid atau di masa depan"
        case .invalidValue: "Nilai isian tidak dikenal"
        case .invalidPhone: "Nomor HP tidak valid (contoh: 081234567890)"
        case .unknownOccupation: "Kode pekerjaan tidak ada dalam daftar pekerjaan BPU BPJS Ketenagakerjaan"
        case .ineligibleOccupation: "Pekerjaan ini tidak termasuk sasaran program"
        case .excludedWorkStatus: "Status pekerjaan ini tidak termasuk pekerja rentan"
        case .notActivelyWorking: "Pekerja harus masih aktif bekerja"
        case .outsideProgrammeArea: "Lokasi kerja harus berada di kecamatan Kota Semarang"
        case .invalidKelurahan: "Kelurahan tidak berada di kecamatan yang dipilih"
        case .invalidAddress: "Alamat paling banyak 200 karakter, tanpa karakter kontrol"
        case .nikBirthDateMismatch: "Tanggal lahir pada NIK tidak sesuai dengan tanggal lahir"
        case .nikGenderMismatch: "Jenis kelamin pada NIK tidak sesuai dengan jenis kelamin"
        case .ageAboveLimit: "Usia pekerja melebihi batas 64 tahun 11 bulan"
        case .ageBelowMinimum: "Usia pekerja belum 18 tahun"
        case .alreadyRegistered: "NIK ini sudah terdaftar dan masih aktif"
        case .coveredByOtherScheme: "Pekerja sudah dibiayai program lain"
        case .unknownRegistration: "Pendaftaran tidak ditemukan"
        case .registrationNotAccepted: "Pendaftaran ini ditolak, pembayaran tidak dapat diterima"
        case .membershipEnded: "Kepesertaan sudah berakhir; pekerja harus didaftarkan ulang"
        case .invalidMonths: "Jumlah bulan harus 1, 2, 3, 6 atau 12"
        case .amountMismatch: "Jumlah pembayaran tidak sesuai"
        case .exceedsAgeLimit: "Pembayaran melewati batas usia 64 tahun 11 bulan"
        case .paidBeforeRegistration: "Waktu bayar sebelum waktu pendaftaran"
        }
    }
}

/// One error (or warning) about one field: what goes into an event's `errors` list.
public struct RuleViolation: Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the field, e.g. `worker.work_location.kecamatan`.
    public let field: String
    public let code: RuleCode
    /// Indonesian, for the civil servant who filled the form; never contains personal data.
    public let message: String

    public init(field: String, code: RuleCode, message: String? = nil) {
        self.field = field
        self.code = code
        self.message = message ?? code.defaultMessage
    }

    public var description: String { "\(field): \(code.rawValue)" }

    public var json: JSONValue {
        ["field": .string(field), "code": .string(code.rawValue), "message": .string(message)]
    }

    // MARK: Specific messages

    public static func missing(_ field: String) -> RuleViolation {
        RuleViolation(field: field, code: .missingField, message: "Kolom \(field) wajib diisi")
    }

    public static func invalidType(_ field: String, expected: String) -> RuleViolation {
        RuleViolation(field: field, code: .invalidType, message: "Kolom \(field) harus berupa \(expected)")
    }

    public static func amountMismatch(expected: Int64, months: Int) -> RuleViolation {
        RuleViolation(
            field: "amount", code: .amountMismatch,
            message: "Jumlah pembayaran harus \(Money.rupiah(expected)) untuk \(months) bulan")
    }

    public static func ageAboveLimit(maximumMonths: Int) -> RuleViolation {
        RuleViolation(
            field: "worker.birth_date", code: .ageAboveLimit,
            message: "Usia pekerja melebihi batas \(Money.yearsMonths(maximumMonths))")
    }

    public static func ageBelowMinimum(minimumYears: Int) -> RuleViolation {
        RuleViolation(
            field: "worker.birth_date", code: .ageBelowMinimum,
            message: "Usia pekerja belum \(minimumYears) tahun")
    }

    public static func exceedsAgeLimit(monthsLeft: Int, maximumMonths: Int) -> RuleViolation {
        let tail =
            monthsLeft > 0
            ? "hanya \(monthsLeft) bulan lagi yang dapat dibayar"
            : "tidak ada bulan lagi yang dapat dibayar"
        return RuleViolation(
            field: "months", code: .exceedsAgeLimit,
            message: "Pembayaran melewati batas usia \(Money.yearsMonths(maximumMonths)); \(tail)")
    }

    public static func unknownRegistration() -> RuleViolation {
        RuleViolation(field: "registration_id", code: .unknownRegistration)
    }
}
