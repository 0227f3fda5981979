import Foundation
import Logging
import PeduliDomain
import PostgresClient

/// The programme's figures as of a Jakarta date (docs/rules.md "Reports"), read from the database only.
///
/// Everything is judged as of the end of `asOf` (Asia/Jakarta): registrations accepted after it,
/// payments paid after it and log entries after it do not count, so a report for a past date gives the
/// same figures later (except where a registration ended and was reopened in between: `ended_at` keeps
/// only the latest end).
///
/// Where docs/rules.md is silent:
/// - `registered` counts every accepted registration, ended ones too (it measures what ASN did);
///   `active` uses the paid-through month implied by the payments paid by then.
/// - ASN participation counts sponsors whose roster row is `active`; an inactive ASN can no longer
///   register, so it is left out of both sides of the ratio. Any accepted registration counts, ended or not.
/// - Registrations are grouped by the kecamatan where the worker works (the programme area), and every
///   kecamatan of the catalogue is listed, zeros included, so the table has a stable shape.
/// - Rejection reasons count error codes (a rejection with three errors adds three), `rejected` counts
///   commands; replays and scheduled retries are not counted again.
public struct Report: Sendable, Equatable {
    /// A unit (OPD) of the roster: active roster sponsors, those with at least one accepted registration.
    public struct Unit: Sendable, Equatable {
        public var name: String
        public var sponsors: Int
        public var participating: Int
        public var registered: Int
        /// Participation in hundredths of a percent (participating / sponsors), rounded half up.
        public var participationHundredths: Int { Report.hundredthsOfPercent(participating, of: sponsors) }
    }

    /// A kecamatan of the catalogue, by where the worker works.
    public struct Kecamatan: Sendable, Equatable {
        public var code: String
        public var name: String
        public var registered: Int
        public var active: Int
    }

    public var asOf: JakartaDate
    /// Accepted registrations accepted on or before `asOf`, ended ones included.
    public var registered: Int
    /// Registrations not ended and paid through at least the month of `asOf`.
    public var active: Int
    public var baselineInformalWorkers: Int
    public var baselineCovered: Int
    public var units: [Unit]
    public var kecamatan: [Kecamatan]
    public var payments: Int
    public var paymentsAmount: Int64
    /// Rejected commands (registrations and payments) and how often each error code occurred.
    public var rejected: Int
    public var rejectionReasons: [String: Int]
    /// Parked messages by reason.
    public var parked: Int
    public var parkedReasons: [String: Int]

    /// (baseline covered + active) / informal workers, in hundredths of a percent.
    public var coverageHundredths: Int {
        Self.hundredthsOfPercent(baselineCovered + active, of: baselineInformalWorkers)
    }

    public var totalSponsors: Int { units.reduce(0) { $0 + $1.sponsors } }
    public var totalParticipating: Int { units.reduce(0) { $0 + $1.participating } }
    public var totalParticipationHundredths: Int { Self.hundredthsOfPercent(totalParticipating, of: totalSponsors) }

    // MARK: arithmetic and formatting (pure)

    /// `part / whole` as hundredths of a percent, rounded half up in integers (no binary-float drift:
    /// 40,196 / 215,243 is 18.6747...% → 1867). 0 for an empty whole.
    public static func hundredthsOfPercent(_ part: Int, of whole: Int) -> Int {
        guard whole > 0, part >= 0 else { return 0 }
        return (part * 20_000 + whole) / (2 * whole)
    }

    /// Hundredths of a percent as text with two decimals: 1867 → "18.67".
    public static func percentText(_ hundredths: Int) -> String {
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Stable JSON: snake_case keys (sorted), integers for counts and money, percentages as decimal
    /// numbers with two places.
    public var json: JSONValue {
        func percent(_ h: Int) -> JSONValue { .number(Self.percentText(h)) }
        func counts(_ d: [String: Int]) -> JSONValue {
            .object(JSONObject(d.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) }))
        }
        return .object(
            JSONObject([
                ("as_of", .string(asOf.description)),
                ("registered", .int(Int64(registered))),
                ("active", .int(Int64(active))),
                (
                    "coverage",
                    .object(
                        JSONObject([
                            ("baseline_informal_workers", .int(Int64(baselineInformalWorkers))),
                            ("baseline_covered", .int(Int64(baselineCovered))),
                            ("covered", .int(Int64(baselineCovered + active))),
                            ("rate_percent", percent(coverageHundredths)),
                        ]))
                ),
                (
                    "asn_participation",
                    .object(
                        JSONObject([
                            (
                                "units",
                                .array(
                                    units.map { u in
                                        .object(
                                            JSONObject([
                                                ("unit", .string(u.name)), ("sponsors", .int(Int64(u.sponsors))),
                                                ("participating", .int(Int64(u.participating))),
                                                ("registered", .int(Int64(u.registered))),
                                                ("rate_percent", percent(u.participationHundredths)),
                                            ]))
                                    })
                            ),
                            (
                                "total",
                                .object(
                                    JSONObject([
                                        ("sponsors", .int(Int64(totalSponsors))),
                                        ("participating", .int(Int64(totalParticipating))),
                                        ("rate_percent", percent(totalParticipationHundredths)),
                                    ]))
                            ),
                        ]))
                ),
                (
                    "kecamatan",
                    .array(
                        kecamatan.map { k in
                            .object(
                                JSONObject([
                                    ("code", .string(k.code)), ("name", .string(k.name)),
                                    ("registered", .int(Int64(k.registered))), ("active", .int(Int64(k.active))),
                                ]))
                        })
                ),
                (
                    "payments",
                    .object(
                        JSONObject([
                            ("count", .int(Int64(payments))), ("amount", .int(paymentsAmount)),
                        ]))
                ),
                ("rejected", .int(Int64(rejected))),
                ("rejection_reasons", counts(rejectionReasons)),
                ("parked", .int(Int64(parked))),
                ("parked_reasons", counts(parkedReasons)),
            ]))
    }

    /// A plain-text report for a terminal: one section per table, columns aligned.
    public var text: String {
        var out = "PNS Peduli Pekerja Rentan: report as of \(asOf) (Asia/Jakarta)\n\n"
        out += Self.table(
            [
                ["registered", String(registered)],
                ["active", String(active)],
                [
                    "coverage rate",
                    "\(Self.percentText(coverageHundredths)) % ((\(baselineCovered) + \(active)) / \(baselineInformalWorkers))",
                ],
                ["payments", "\(payments), Rp \(paymentsAmount)"],
                ["rejected", String(rejected)],
                ["parked", String(parked)],
            ], header: nil, leftColumns: 2)
        out += "\nASN participation by unit (OPD)\n"
        out += Self.table(
            units.map {
                [
                    $0.name, String($0.sponsors), String($0.participating), String($0.registered),
                    Self.percentText($0.participationHundredths),
                ]
            }
                + [
                    [
                        "TOTAL", String(totalSponsors), String(totalParticipating),
                        String(units.reduce(0) { $0 + $1.registered }),
                        Self.percentText(totalParticipationHundredths),
                    ]
                ],
            header: ["unit", "sponsors", "participating", "registered", "%"])
        out += "\nRegistrations by kecamatan (work location)\n"
        out += Self.table(
            kecamatan.map { [$0.code, $0.name, String($0.registered), String($0.active)] },
            header: ["code", "kecamatan", "registered", "active"], leftColumns: 2)
        if !rejectionReasons.isEmpty {
            out += "\nRejection reasons\n"
            out += Self.table(
                rejectionReasons.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] },
                header: ["code", "count"])
        }
        if !parkedReasons.isEmpty {
            out += "\nParked messages\n"
            out += Self.table(
                parkedReasons.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] },
                header: ["reason", "count"])
        }
        return out
    }

    /// The first `leftColumns` columns left-aligned (names), the rest right-aligned (numbers).
    static func table(_ rows: [[String]], header: [String]?, leftColumns: Int = 1) -> String {
        let all = (header.map { [$0] } ?? []) + rows
        guard let columns = all.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for row in all {
            let cells = row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i < leftColumns ? cell + pad : pad + cell
            }
            out +=
                "  "
                + cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
                + "\n"
        }
        return out
    }

    // MARK: reading the database

    /// Counts everything in one read-only transaction so the figures agree with each other.
    public static func build(
        asOf: JakartaDate, database: PostgresConfiguration, programme: ProgrammeConfiguration,
        baselineInformalWorkers: Int, baselineCovered: Int, logger: Logger
    ) throws -> Report {
        let db = try PostgresConnection(configuration: database, logger: logger)
        let end = RFC3339.format(asOf.adding(days: 1).startInstant)
        return try db.transaction { tx in
            _ = try tx.execute(simple: "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            // Per kecamatan, the paid-through month as of the date (from payments paid by then) and whether
            // the worker had ended the membership by then; the domain decides which groups are active.
            let groups = try tx.query(
                """
                SELECT r.kecamatan,
                       to_char(p.paid_through, 'YYYY-MM') AS paid_through,
                       (r.ended_at IS NOT NULL AND r.ended_at < $1::timestamptz) AS ended,
                       count(*) AS n
                FROM registrations r
                LEFT JOIN LATERAL (
                    SELECT max(covered_through) AS paid_through FROM payments
                    WHERE registration_id = r.registration_id AND paid_at < $1::timestamptz) p ON true
                WHERE r.accepted_at < $1::timestamptz
                GROUP BY 1, 2, 3
                """, [end])
            var registeredBy: [String: Int] = [:], activeBy: [String: Int] = [:]
            for row in groups {
                let code = try row.string("kecamatan"), n = try row.int("n")
                registeredBy[code, default: 0] += n
                let paidThrough = row["paid_through"].flatMap(YearMonth.parse)
                // A registration paid through the current month is inside its grace by construction; the
                // domain still judges it, so a change to the grace rules changes the report with it.
                let ended =
                    try row.bool("ended")
                    || !(paidThrough.map {
                        Grace.isOpen(on: asOf, acceptedOn: asOf, paidThrough: $0, config: programme)
                    } ?? false)
                if Reports.isActive(paidThrough: paidThrough, ended: ended, on: asOf) {
                    activeBy[code, default: 0] += n
                }
            }
            var kecamatan = programme.catalogues.kecamatan.values.map {
                Kecamatan(
                    code: $0.code, name: $0.name, registered: registeredBy[$0.code] ?? 0, active: activeBy[$0.code] ?? 0
                )
            }
            for (code, n) in registeredBy where programme.catalogues.kecamatan[code] == nil {
                kecamatan.append(
                    Kecamatan(code: code, name: "(not in catalogue)", registered: n, active: activeBy[code] ?? 0))
            }
            kecamatan.sort { $0.code < $1.code }

            let units = try tx.query(
                """
                SELECT s.unit,
                       count(*) FILTER (WHERE s.active) AS sponsors,
                       count(*) FILTER (WHERE s.active AND r.n > 0) AS participating,
                       coalesce(sum(r.n), 0) AS registered
                FROM sponsors s
                LEFT JOIN LATERAL (
                    SELECT count(*) AS n FROM registrations
                    WHERE sponsor_nip = s.nip AND accepted_at < $1::timestamptz) r ON true
                GROUP BY s.unit ORDER BY s.unit
                """, [end]
            ).map {
                Unit(
                    name: try $0.string("unit"), sponsors: try $0.int("sponsors"),
                    participating: try $0.int("participating"), registered: try $0.int("registered"))
            }

            let payments = try tx.query(
                "SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount FROM payments WHERE paid_at < $1::timestamptz",
                [end])[0]

            var reasons: [String: [String: Int]] = ["rejected": [:], "parked": [:]]
            var messages: [String: Int] = [:]
            for row in try tx.query(
                """
                SELECT outcome, code, count(*) AS n FROM processing_log, unnest(reason_codes) AS code
                WHERE outcome IN ('rejected', 'parked') AND processed_at < $1::timestamptz
                GROUP BY 1, 2
                """, [end])
            {
                let outcome = try row.string("outcome")
                if let code = row["code"] { reasons[outcome]![code, default: 0] += try row.int("n") }
            }
            for row in try tx.query(
                """
                SELECT outcome, count(*) AS n FROM processing_log
                WHERE outcome IN ('rejected', 'parked') AND processed_at < $1::timestamptz GROUP BY 1
                """, [end])
            {
                messages[try row.string("outcome")] = try row.int("n")
            }

            return Report(
                asOf: asOf, registered: registeredBy.values.reduce(0, +), active: activeBy.values.reduce(0, +),
                baselineInformalWorkers: baselineInformalWorkers, baselineCovered: baselineCovered,
                units: units, kecamatan: kecamatan,
                payments: try payments.int("n"), paymentsAmount: try payments.int64("amount"),
                rejected: messages["rejected"] ?? 0, rejectionReasons: reasons["rejected"]!,
                parked: messages["parked"] ?? 0, parkedReasons: reasons["parked"]!)
        }
    }
}
