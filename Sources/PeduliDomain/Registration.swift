import Foundation

/// ILO vulnerable-employment categories (docs/rules.md `work_status`).
public enum WorkStatus: String, Sendable, Hashable, CaseIterable {
    case ownAccount = "own_account"
    case contributingFamily = "contributing_family"
    case casual
    case employee
    case unemployed
    case homemaker
    case student
    case retired

    /// Whether the programme funds workers in this category.
    public var isEligible: Bool {
        switch self {
        case .ownAccount, .contributingFamily, .casual: true
        case .employee, .unemployed, .homemaker, .student, .retired: false
        }
    }
}

/// How the sponsor found the worker (`source`).
public enum RegistrationSource: String, Sendable, Hashable, CaseIterable {
    case neighbourhood
    case family
    case verifiedData = "verified_data"
}

/// A sponsor's or payer's roster entry; `nil` in the facts means "not on the roster".
public enum SponsorStatus: Sendable, Hashable {
    case active
    case inactive
}

/// Phase 1 of a registration: everything that can be checked without the database.
/// Each field is set only when it was present and valid; `errors` holds every problem found
/// so far and `warnings` the tolerated NIK disagreements (policy `warn`).
public struct RegistrationDraft: Sendable {
    public var registrationID: UUID?
    public var submittedAt: Date?
    public var sponsorNIP: NIP?
    public var sponsorName: String?
    public var sponsorUnit: String?
    public var nik: NIK?
    public var workerName: String?
    public var birthDate: JakartaDate?
    public var gender: Gender?
    public var phone: PhoneNumber?
    public var occupation: Occupation?
    public var workStatus: WorkStatus?
    public var activelyWorking: Bool?
    public var kecamatan: Kecamatan?
    public var kelurahan: Kelurahan?
    public var address: Address?
    public var source: RegistrationSource?
    public var errors: [RuleViolation] = []
    public var warnings: [RuleViolation] = []

    /// Look-up key for the roster (only a well-formed NIP).
    public var lookupSponsorNIP: String? { sponsorNIP?.value }
    /// Look-up key for other schemes and active registrations (only a valid NIK).
    public var lookupNIK: NIK? { nik }

    public init() {}

    /// Decodes and checks a `registration.submit` body. `now` is the worker's clock (for
    /// `in_future` and a birth date in the future).
    public static func decode(_ body: JSONValue, config: ProgrammeConfiguration, now: Date) -> RegistrationDraft {
        var draft = RegistrationDraft()
        var r = FieldReader()
        guard case .object(let root) = body else {
            // The pipeline parks non-objects as malformed_json before this; kept total anyway.
            draft.errors = [.invalidType("", expected: "objek JSON")]
            return draft
        }
        r.schemaVersion(root)
        draft.registrationID = r.uuid(root, "registration_id")
        var submittedOn: JakartaDate?
        if let (t, valid) = r.timestamp(root, "submitted_at", now: now, skew: config.clockSkewSeconds) {
            draft.submittedAt = valid ? t : nil
            submittedOn = valid ? JakartaDate(t) : nil
        }
        let today = JakartaDate(now)

        if let sponsor = r.object(root, "sponsor") {
            if let nip = r.string(sponsor, "nip", in: "sponsor") {
                draft.sponsorNIP = NIP.parse(nip, allowPPPK: config.allowPPPK)
                if draft.sponsorNIP == nil { r.fail("sponsor.nip", .invalidNIP) }
            }
            draft.sponsorName = r.freeText(
                sponsor, "name", in: "sponsor", limit: FreeText.sponsorTextMaximumLength,
                code: .invalidValue)
            draft.sponsorUnit = r.freeText(
                sponsor, "unit", in: "sponsor", limit: FreeText.sponsorTextMaximumLength,
                code: .invalidValue)
        }

        if let worker = r.object(root, "worker") {
            let w = "worker"
            if let text = r.string(worker, "birth_date", in: w) {
                if let d = JakartaDate.parse(text), d <= today {
                    draft.birthDate = d
                } else {
                    r.fail("worker.birth_date", .invalidDate)
                }
            }
            if let g = r.string(worker, "gender", in: w) {
                draft.gender = Gender(rawValue: g)
                if draft.gender == nil { r.fail("worker.gender", .invalidValue, "Jenis kelamin harus L atau P") }
            }
            if let text = r.string(worker, "nik", in: w) {
                draft.nik = NIK.parse(text, birthDate: draft.birthDate, reference: submittedOn ?? today)
                if draft.nik == nil { r.fail("worker.nik", .invalidNIK) }
            }
            if let text = r.string(worker, "name", in: w) {
                draft.workerName = PersonName.normalise(text)
                if draft.workerName == nil { r.fail("worker.name", .invalidName) }
            }
            if let text = r.string(worker, "phone", in: w, required: false) {
                draft.phone = PhoneNumber.normalise(text)
                if draft.phone == nil { r.fail("worker.phone", .invalidPhone) }
            }
            if let code = r.string(worker, "occupation", in: w) {
                if let occ = config.catalogues.occupations[code] {
                    if occ.eligible {
                        draft.occupation = occ
                    } else {
                        r.fail(
                            "worker.occupation", .ineligibleOccupation,
                            "Pekerjaan \(occ.name) tidak termasuk sasaran program")
                    }
                } else {
                    r.fail("worker.occupation", .unknownOccupation)
                }
            }
            if let text = r.string(worker, "work_status", in: w) {
                if let status = WorkStatus(rawValue: text) {
                    if status.isEligible {
                        draft.workStatus = status
                    } else {
                        r.fail("worker.work_status", .excludedWorkStatus)
                    }
                } else {
                    r.fail(
                        "worker.work_status", .invalidValue,
                        "Status pekerjaan harus salah satu dari: \(WorkStatus.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
            }
            if let active = r.bool(worker, "actively_working", in: w) {
                if active {
                    draft.activelyWorking = true
                } else {
                    r.fail("worker.actively_working", .notActivelyWorking)
                }
            }
            if let loc = r.object(worker, "work_location", in: w) {
                let l = "worker.work_location"
                if let code = r.string(loc, "kecamatan", in: l) {
                    draft.kecamatan = config.catalogues.kecamatan[code]
                    if draft.kecamatan == nil { r.fail("worker.work_location.kecamatan", .outsideProgrammeArea) }
                }
                if let code = r.string(loc, "kelurahan", in: l, required: false), let kec = draft.kecamatan {
                    // An invalid kecamatan gives no invalid_kelurahan.
                    if let kel = config.catalogues.kelurahan[code], kel.kecamatanCode == kec.code {
                        draft.kelurahan = kel
                    } else {
                        r.fail(
                            "worker.work_location.kelurahan", .invalidKelurahan,
                            "Kelurahan tidak berada di Kecamatan \(kec.name)")
                    }
                }
                draft.address = r.freeText(
                    loc, "address", in: l, limit: FreeText.addressMaximumLength,
                    code: .invalidAddress
                ).map(Address.init)
            }
        }

        if let text = r.string(root, "source") {
            draft.source = RegistrationSource(rawValue: text)
            if draft.source == nil {
                r.fail("source", .invalidValue, "Sumber data harus neighbourhood, family atau verified_data")
            }
        }

        // Cross-field checks, each only when the fields it reads are valid.
        if let birth = draft.birthDate, let on = submittedOn {
            r.errors += Age.registrationViolations(birth: birth, submittedOn: on, config: config)
        }
        if let nik = draft.nik {
            for code in NIKConsistency.mismatches(nik: nik, birthDate: draft.birthDate, gender: draft.gender) {
                let v = RuleViolation(field: "worker.nik", code: code)
                switch config.nikConsistency {
                case .reject: r.errors.append(v)
                case .warn: draft.warnings.append(v)
                }
            }
        }
        draft.errors = r.errors
        return draft
    }
}

/// What the database knows about a registration's NIK and sponsor, fetched in one batch.
public struct RegistrationFacts: Sendable, Hashable {
    /// The sponsor's roster status; nil = not on the roster.
    public var sponsor: SponsorStatus?
    public var coveredByOtherScheme: Bool
    /// The NIK has an accepted registration that has not ended.
    public var hasActiveRegistration: Bool

    public init(sponsor: SponsorStatus?, coveredByOtherScheme: Bool = false, hasActiveRegistration: Bool = false) {
        self.sponsor = sponsor
        self.coveredByOtherScheme = coveredByOtherScheme
        self.hasActiveRegistration = hasActiveRegistration
    }
}

/// Everything needed to store an accepted registration and build `registration.accepted`.
public struct AcceptedRegistration: Sendable {
    public let registrationID: UUID
    public let submittedAt: Date
    public let acceptedAt: Date
    public let sponsorNIP: NIP
    public let sponsorName: String?
    public let sponsorUnit: String?
    public let nik: NIK
    public let workerName: String
    public let birthDate: JakartaDate
    public let gender: Gender
    public let phone: PhoneNumber?
    public let occupation: Occupation
    public let workStatus: WorkStatus
    public let kecamatan: Kecamatan
    public let kelurahan: Kelurahan?
    public let address: Address?
    public let source: RegistrationSource
    /// The monthly contribution in force at `submitted_at`.
    public let monthlyContribution: Int64
    /// Jakarta date of `acceptedAt` + `first_payment_days`.
    public let firstDueDate: JakartaDate
    public let warnings: [RuleViolation]
}

public enum RegistrationDecision: Sendable {
    case accepted(AcceptedRegistration)
    case rejected([RuleViolation])
}

/// Phase 2: combines the draft with the database facts. Roster checks run only for a
/// well-formed NIP (and when the roster is enforced); NIK checks only for a valid NIK.
/// `acceptedAt` is the moment the worker commits (the first due date counts from its Jakarta date).
public func decideRegistration(
    _ draft: RegistrationDraft, facts: RegistrationFacts,
    config: ProgrammeConfiguration, acceptedAt: Date
) -> RegistrationDecision {
    var errors = draft.errors
    if draft.sponsorNIP != nil, config.enforceSponsorRoster {
        errors += Roster.violations(facts.sponsor, field: "sponsor.nip")
    }
    if draft.nik != nil {
        if facts.hasActiveRegistration { errors.append(RuleViolation(field: "worker.nik", code: .alreadyRegistered)) }
        if facts.coveredByOtherScheme { errors.append(RuleViolation(field: "worker.nik", code: .coveredByOtherScheme)) }
    }
    guard errors.isEmpty else { return .rejected(errors) }
    guard let id = draft.registrationID, let submittedAt = draft.submittedAt, let nip = draft.sponsorNIP,
        let nik = draft.nik, let name = draft.workerName, let birth = draft.birthDate, let gender = draft.gender,
        let occupation = draft.occupation, let status = draft.workStatus, draft.activelyWorking == true,
        let kecamatan = draft.kecamatan, let source = draft.source
    else {
        // Unreachable: every required field is either set or has an error. Kept total.
        return .rejected([RuleViolation(field: "", code: .missingField)])
    }
    let rates = config.contributionRates
    let monthly = rates.monthlyAmount(at: submittedAt) ?? rates.rates[0].monthlyAmount
    return .accepted(
        AcceptedRegistration(
            registrationID: id, submittedAt: submittedAt, acceptedAt: acceptedAt,
            sponsorNIP: nip, sponsorName: draft.sponsorName, sponsorUnit: draft.sponsorUnit,
            nik: nik, workerName: name, birthDate: birth, gender: gender, phone: draft.phone,
            occupation: occupation, workStatus: status, kecamatan: kecamatan, kelurahan: draft.kelurahan,
            address: draft.address, source: source, monthlyContribution: monthly,
            firstDueDate: Grace.firstDueDate(acceptedOn: JakartaDate(acceptedAt), config: config),
            warnings: draft.warnings))
}

/// Roster rules shared by sponsors and payers.
public enum Roster {
    public static func violations(_ status: SponsorStatus?, field: String) -> [RuleViolation] {
        switch status {
        case nil: [RuleViolation(field: field, code: .unknownSponsor)]
        case .inactive?: [RuleViolation(field: field, code: .inactiveSponsor)]
        case .active?: []
        }
    }
}
