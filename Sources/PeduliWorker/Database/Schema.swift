import PeduliPrivacy
import PostgresClient

/// The database schema, as versioned migrations compiled into the executable (an installed binary needs no
/// resource files). Never edit a shipped migration: add a new one. The invariants that must hold however
/// many workers run are constraints here, not checks in Swift:
/// - one accepted, not-ended registration per NIK (`registrations_one_active_per_nik`);
/// - unique payment ids and receipt numbers, and no two payments of a registration covering the same month
///   (the primary key of `payment_months`, one row per covered month);
/// - one outcome per command key (`command_outcomes` primary key) and per message (`processing_log`);
/// - each reminder once per registration, kind and month (`reminders_sent` primary key).
public enum Schema {
    /// Every migration, for a run without data keys: the data step of version 8 then refuses to start when
    /// plain personal data is waiting to be encrypted (an empty or already encrypted database migrates).
    public static var migrations: [Migration] { migrations(keys: nil) }

    /// Every migration; `keys` encrypt what an earlier release stored in plain text (version 8's data step).
    public static func migrations(keys: DataKeys?) -> [Migration] {
        base + [
            Migration(version: 7, name: "personal data: sealed columns and keyed hashes", sql: v7),
            Migration(
                version: 8, name: "personal data: plain columns dropped", sql: v8,
                prepare: { db in try PersonalDataMigration(keys: keys).sealPlainRows(on: db) }),
            Migration(version: 9, name: "personal data: erasure and the audit trail", sql: v9),
            Migration(version: 10, name: "dead-letter replays", sql: v10),
        ]
    }

    static let base: [Migration] = [
        Migration(version: 1, name: "programme schema", sql: v1),
        Migration(version: 2, name: "registrations by nik", sql: v2),
        Migration(version: 3, name: "outbox as a queue, room for payment updates", sql: v3),
        Migration(version: 4, name: "covered months as rows", sql: v4),
        Migration(version: 5, name: "parked messages claim no message id", sql: v5),
        Migration(version: 6, name: "outbox headers on the wire, per-row retries, rows set aside", sql: v6),
    ]

    /// Personal data at rest (docs/operations.md, "Personal data"): each worker's NIK, name, birth date, phone
    /// and address sealed per value (AES-256-GCM, the row and column as associated data), the NIK also as a
    /// keyed hash for the one-active-registration constraint and the look-ups; covered NIKs by hash only; the
    /// stored event of each decided command (it names the worker) sealed; outbox bodies (events name workers,
    /// parked copies are whole commands) sealed, `sealed` telling them from rows an earlier release wrote.
    static let v7 = """
        ALTER TABLE registrations
            ADD COLUMN nik_hash bytea, ADD COLUMN nik_sealed bytea, ADD COLUMN name_sealed bytea,
            ADD COLUMN birth_date_sealed bytea, ADD COLUMN phone_sealed bytea, ADD COLUMN address_sealed bytea,
            ALTER COLUMN nik DROP NOT NULL, ALTER COLUMN worker_name DROP NOT NULL,
            ALTER COLUMN birth_date DROP NOT NULL;
        ALTER TABLE covered_niks ADD COLUMN nik_hash bytea;
        ALTER TABLE command_outcomes ADD COLUMN event_body_sealed bytea;
        ALTER TABLE outbox ADD COLUMN sealed boolean NOT NULL DEFAULT false;
        ALTER TABLE outbox_set_aside ADD COLUMN sealed boolean NOT NULL DEFAULT false;
        """

    /// After the data step sealed every plain row: the plain columns go, the constraints move to the hashes.
    static let v8 = """
        DROP INDEX registrations_one_active_per_nik;
        DROP INDEX registrations_nik;
        ALTER TABLE registrations
            DROP COLUMN nik, DROP COLUMN worker_name, DROP COLUMN birth_date, DROP COLUMN phone, DROP COLUMN address;
        CREATE UNIQUE INDEX registrations_one_active_per_nik ON registrations (nik_hash) WHERE ended_at IS NULL;
        CREATE INDEX registrations_nik ON registrations (nik_hash, accepted_at);
        ALTER TABLE covered_niks DROP CONSTRAINT covered_niks_pkey;
        ALTER TABLE covered_niks DROP COLUMN nik, ALTER COLUMN nik_hash SET NOT NULL, ADD PRIMARY KEY (nik_hash);
        ALTER TABLE command_outcomes DROP COLUMN event_body, ALTER COLUMN event_body_sealed SET NOT NULL;
        """

    /// A data subject's erasure keeps the row the report counts and removes what names the worker; the hash
    /// moves to `erased_hash` so `subject show` still finds the record and a new registration of the NIK is not
    /// blocked. Every reading or erasure of personal data is on record in `personal_data_audit`, which the
    /// database itself keeps append-only (UU 27/2022 Pasal 31).
    static let v9 = """
        ALTER TABLE registrations ADD COLUMN erased_at timestamptz, ADD COLUMN erased_hash bytea;
        CREATE INDEX registrations_erased_hash ON registrations (erased_hash) WHERE erased_hash IS NOT NULL;
        CREATE TABLE personal_data_audit (
            id           bigserial PRIMARY KEY,
            at           timestamptz NOT NULL DEFAULT now(),
            operator     text NOT NULL,
            action       text NOT NULL
                CHECK (action IN ('subject_show', 'subject_erase', 'retention_erase', 'keys_rotate')),
            subject_hash bytea,
            detail       text NOT NULL DEFAULT ''
        );
        CREATE FUNCTION personal_data_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'personal_data_audit is append-only';
        END $$;
        CREATE TRIGGER personal_data_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON personal_data_audit
            FOR EACH STATEMENT EXECUTE FUNCTION personal_data_audit_is_append_only();
        """

    /// `peduli-worker dead-letters replay`: one row per parked message republished, linking the parked copy
    /// (its `message_id`, absent when it had none, and a fingerprint of routing key, `message_id` and body)
    /// to the `message_id` of the replay. The row is written before the publish and confirmed after the
    /// broker's confirm, before the parked copy is removed: a replay interrupted after the confirm finds the
    /// confirmed row and only removes the copy; one interrupted before publishes again under the same new
    /// `message_id`, which the inbox makes a no-op if the first publish got through. No personal data.
    static let v10 = """
        CREATE TABLE dead_letter_replays (
            id                   bigserial PRIMARY KEY,
            fingerprint          text NOT NULL,
            original_message_id  text,
            new_message_id       text NOT NULL UNIQUE,
            reason               text NOT NULL,
            routing_key          text NOT NULL,
            publisher            text,
            forced               boolean NOT NULL,
            operator             text NOT NULL,
            created_at           timestamptz NOT NULL DEFAULT now(),
            confirmed_at         timestamptz
        );
        CREATE INDEX dead_letter_replays_fingerprint ON dead_letter_replays (fingerprint);
        """

    /// Three ways one outbox row stopped every event (issue of hostile envelopes):
    /// - headers as JSON could not be read back past the parser's depth: they are now stored as on the wire;
    /// - a row the broker refused (nack) was published again at once, forever, ahead of every later row: each
    ///   row now has its own attempt count and a time before which it is not tried again;
    /// - a row that can never be published (refused too often, or unencodable even in reduced form) is moved to
    ///   `outbox_set_aside`, where an alert sees it and an operator can put it back (docs/operations.md).
    static let v6 = """
        ALTER TABLE outbox ADD COLUMN headers bytea, ADD COLUMN attempts integer NOT NULL DEFAULT 0,
            ADD COLUMN not_before timestamptz;
        CREATE TABLE outbox_set_aside (
            id           bigint PRIMARY KEY,
            exchange     text NOT NULL,
            routing_key  text NOT NULL,
            properties   text NOT NULL,
            headers      bytea,
            body         bytea NOT NULL,
            created_at   timestamptz NOT NULL,
            attempts     integer NOT NULL,
            reason       text NOT NULL,
            set_aside_at timestamptz NOT NULL DEFAULT now()
        );
        """

    /// The inbox was claimed by every settled message, parked ones too, and it is checked first: an intruder
    /// who published junk under a portal's `message_id` first made the portal's real command a silent no-op.
    /// A parked message has no effect, so it now claims nothing (docs/contract.md): its log row stays for the audit
    /// trail, outside the uniqueness that makes the inbox. A parked message the broker delivers again (after a
    /// lost connection, a kill, a queue leader moving) is therefore parked again; `redelivered` records the
    /// broker's flag, so the audit trail tells such copies from new messages.
    static let v5 = """
        ALTER TABLE processing_log ADD COLUMN redelivered boolean NOT NULL DEFAULT false;
        DROP INDEX processing_log_message;
        CREATE UNIQUE INDEX processing_log_message ON processing_log (message_id, attempt)
            WHERE message_id IS NOT NULL AND outcome <> 'parked';
        """

    /// "No two payments of a registration cover the same month" was a GiST exclusion constraint over
    /// (registration id, date range). Its probes touched more and more pages as payments grew: at 225,000
    /// payments they took 88 % of PostgreSQL's CPU (perf) and the worker fell from 3,000 to 900 commands/s.
    /// One row per covered month with a B-tree primary key states the same rule exactly, at a cost that does
    /// not grow with the table.
    static let v4 = """
        CREATE TABLE payment_months (
            registration_id uuid NOT NULL,
            month           date NOT NULL CHECK (extract(day FROM month) = 1),
            payment_id      text NOT NULL,
            PRIMARY KEY (registration_id, month)
        );
        INSERT INTO payment_months (registration_id, month, payment_id)
            SELECT registration_id, generate_series(covered_from, covered_through, interval '1 month')::date, payment_id
            FROM payments;
        ALTER TABLE payments DROP CONSTRAINT payments_no_overlap;
        """

    /// Two costs that grew with the tables (measured in the README's performance section):
    /// - the outbox kept every published row and marked it sent, a second tuple per event and a table that only
    ///   grew; the relay now deletes what the broker confirmed, so the table holds only the unsent backlog
    ///   (`command_outcomes` keeps every decided event for audit and replays). Autovacuum runs on a fixed number
    ///   of dead rows, not on a share of a table whose size swings between empty and a backlog.
    /// - every payment rewrites its registration's `paid_through`; with full pages that new version goes to
    ///   another page and into all five indexes. Free room on each page lets it stay on the page (a HOT update).
    static let v3 = """
        DELETE FROM outbox WHERE sent_at IS NOT NULL;
        DROP INDEX outbox_unsent;
        ALTER TABLE outbox DROP COLUMN sent_at;
        ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                                autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000);
        ALTER TABLE registrations SET (fillfactor = 80);
        """

    /// A payment asks whether the worker's NIK was registered again after its registration; without a plain
    /// index on `nik` (the unique one covers open registrations only) that scans the table per payment.
    static let v2 = """
        CREATE INDEX registrations_nik ON registrations (nik, accepted_at);
        """

    static let v1 = """
        CREATE EXTENSION IF NOT EXISTS btree_gist;

        -- The ASN roster (peduli-worker roster import).
        CREATE TABLE sponsors (
            nip         text PRIMARY KEY CHECK (nip ~ '^[0-9]{18}$'),
            name        text NOT NULL,
            unit        text NOT NULL,
            active      boolean NOT NULL,
            imported_at timestamptz NOT NULL DEFAULT now()
        );

        -- NIKs funded by another scheme (peduli-worker covered import).
        CREATE TABLE covered_niks (
            nik         text PRIMARY KEY CHECK (nik ~ '^[0-9]{16}$'),
            scheme      text NOT NULL,
            imported_at timestamptz NOT NULL DEFAULT now()
        );

        -- Accepted registrations (rejections live only in command_outcomes and the log).
        CREATE TABLE registrations (
            registration_id uuid PRIMARY KEY,
            submitted_at    timestamptz NOT NULL,
            accepted_at     timestamptz NOT NULL,
            sponsor_nip     text NOT NULL,
            nik             text NOT NULL CHECK (nik ~ '^[0-9]{16}$'),
            worker_name     text NOT NULL,
            birth_date      date NOT NULL,
            gender          text NOT NULL CHECK (gender IN ('L', 'P')),
            phone           text,
            occupation      text NOT NULL,
            work_status     text NOT NULL,
            kecamatan       text NOT NULL,
            kelurahan       text,
            address         text,
            source          text NOT NULL,
            monthly_contribution integer NOT NULL CHECK (monthly_contribution > 0),
            first_due_date  date NOT NULL,
            paid_through    date CHECK (paid_through IS NULL OR extract(day FROM paid_through) = 1),
            ended_at        timestamptz
        );
        CREATE UNIQUE INDEX registrations_one_active_per_nik ON registrations (nik) WHERE ended_at IS NULL;
        CREATE INDEX registrations_sponsor ON registrations (sponsor_nip);
        CREATE INDEX registrations_open ON registrations (registration_id) WHERE ended_at IS NULL;

        CREATE SEQUENCE receipt_numbers;

        CREATE TABLE payments (
            payment_id      text PRIMARY KEY,
            registration_id uuid NOT NULL REFERENCES registrations,
            payer_nip       text NOT NULL,
            months          integer NOT NULL CHECK (months IN (1, 2, 3, 6, 12)),
            amount          bigint NOT NULL CHECK (amount > 0),
            paid_at         timestamptz NOT NULL,
            channel         text NOT NULL,
            covered_from    date NOT NULL,
            covered_through date NOT NULL CHECK (covered_through >= covered_from),
            receipt_number  text NOT NULL UNIQUE,
            recorded_at     timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT payments_no_overlap EXCLUDE USING gist (
                registration_id WITH =, daterange(covered_from, covered_through, '[]') WITH &&)
        );

        -- The outcome of every command that has a key, for replays and conflicting duplicates.
        CREATE TABLE command_outcomes (
            kind         text NOT NULL CHECK (kind IN ('registration', 'payment')),
            command_key  text NOT NULL,
            content_hash bytea NOT NULL,
            event_type   text NOT NULL,
            event_body   text NOT NULL,
            decided_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, command_key)
        );

        -- Inbox and audit trail in one: every message the worker settled, with who sent it and why.
        -- No raw NIK: keys are registration/payment ids; reasons are codes.
        CREATE TABLE processing_log (
            id            bigserial PRIMARY KEY,
            message_id    text,
            attempt       integer NOT NULL DEFAULT 0,
            queue         text NOT NULL,
            publisher     text,
            command       text,
            command_key   text,
            outcome       text NOT NULL,
            reason_codes  text[] NOT NULL DEFAULT '{}',
            processed_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX processing_log_message ON processing_log (message_id, attempt)
            WHERE message_id IS NOT NULL;

        -- Everything the worker publishes, written in the transaction that decided it.
        CREATE TABLE outbox (
            id          bigserial PRIMARY KEY,
            exchange    text NOT NULL,
            routing_key text NOT NULL,
            properties  text NOT NULL,
            body        bytea NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            sent_at     timestamptz
        );
        CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

        CREATE TABLE reminders_sent (
            registration_id uuid NOT NULL REFERENCES registrations,
            kind            text NOT NULL,
            month           date NOT NULL,
            event_id        uuid NOT NULL,
            sent_on         date NOT NULL,
            PRIMARY KEY (registration_id, kind, month)
        );
        """
}
