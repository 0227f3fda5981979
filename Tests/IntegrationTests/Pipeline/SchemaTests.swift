import Foundation
import PeduliPrivacy
import PeduliTestSupport
import PeduliWorker
import PostgresClient
import Testing

/// Upgrades of a database that already holds data: each migration keeps what is there.
@Suite struct SchemaTests {
    typealias Support = PostgresTestSupport

    @Test func upgradeFromVersion3KeepsPaymentsAndTheirCoveredMonths() async throws {
        let schema = Support.uniqueName("schema_up")
        try await onOwnThread {
            let connection = try Support.connect()
            defer {
                _ = try? connection.execute(
                    simple: "DROP SCHEMA IF EXISTS \(PostgresText.quoteIdentifier(schema)) CASCADE")
            }
            let before = Array(Schema.migrations.prefix { $0.version <= 3 })
            #expect(try Migrator(migrations: before, schema: schema).migrate(connection).applied == [1, 2, 3])

            try connection.execute(simple: "SET search_path TO \(PostgresText.quoteIdentifier(schema)), public")
            let registration = UUID().uuidString.lowercased()
            try connection.execute(
                """
                INSERT INTO registrations (registration_id, submitted_at, accepted_at, sponsor_nip, nik, worker_name,
                    birth_date, gender, occupation, work_status, kecamatan, source, monthly_contribution, first_due_date)
                VALUES ($1::uuid, now(), now(), '198001012006041001', '3374010101900001', 'Sutrisno', '1990-01-01',
                    'L', 'becak', 'aktif', '337401', 'portal', 16800, '2026-12-01')
                """, [registration])
            for (id, from, through) in [("p-1", "2026-12-01", "2027-02-01"), ("p-2", "2027-03-01", "2027-03-01")] {
                try connection.execute(
                    """
                    INSERT INTO payments (payment_id, registration_id, payer_nip, months, amount, paid_at, channel,
                        covered_from, covered_through, receipt_number)
                    VALUES ($1, $2::uuid, '198001012006041001', 1, 16800, now(), 'qris', $3::date, $4::date, $1)
                    """, [id, registration, from, through])
            }

            let keys = DataKeys.forTesting()
            #expect(
                try Migrator(migrations: Schema.migrations(keys: keys), schema: schema).migrate(connection).applied
                    == [4, 5, 6, 7, 8, 9, 10])
            // The plain personal data of the earlier release is sealed, looked up by hash, and gone in the clear.
            let sealed = try connection.query(
                "SELECT nik_hash, name_sealed, birth_date_sealed, phone_sealed FROM registrations")
            #expect(try sealed[0].bytes("nik_hash") == keys.nikHash("3374010101900001"))
            let id = try #require(UUID(uuidString: registration))
            #expect(
                try keys.openText(
                    try sealed[0].bytes("name_sealed"), context: "registrations/\(registration)/worker_name")
                    == "Sutrisno")
            #expect(
                try keys.openText(
                    try sealed[0].bytes("birth_date_sealed"), context: "registrations/\(id.canonicalString)/birth_date")
                    == "1990-01-01")
            #expect(try sealed[0].isNull("phone_sealed"))
            let plain = try connection.query(
                """
                SELECT count(*) AS n FROM information_schema.columns
                WHERE table_schema = $1 AND table_name = 'registrations'
                    AND column_name IN ('nik', 'worker_name', 'birth_date', 'phone', 'address')
                """, [schema])
            #expect(try plain[0].int("n") == 0)
            let months = try connection.query(
                "SELECT to_char(month, 'YYYY-MM') AS m, payment_id FROM payment_months ORDER BY month")
            #expect(try months.map { try $0.string("m") } == ["2026-12", "2027-01", "2027-02", "2027-03"])
            #expect(try months.map { try $0.string("payment_id") } == ["p-1", "p-1", "p-1", "p-2"])
            let constraints = try connection.query(
                """
                SELECT count(*) AS n FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                WHERE c.conname = 'payments_no_overlap' AND n.nspname = $1
                """, [schema])
            #expect(try constraints[0].int("n") == 0)
        }
    }
}
