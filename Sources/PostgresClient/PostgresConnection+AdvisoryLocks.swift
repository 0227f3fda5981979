extension PostgresConnection {
    /// Waits for the session advisory lock `key` (`pg_advisory_lock`); held until ``advisoryUnlock(_:)`` or
    /// the end of the session.
    public func advisoryLock(_ key: Int64) throws {
        try query("SELECT pg_advisory_lock($1)", [key])
    }

    /// Takes the session advisory lock `key` if nobody holds it (`pg_try_advisory_lock`); false otherwise.
    public func tryAdvisoryLock(_ key: Int64) throws -> Bool {
        try query("SELECT pg_try_advisory_lock($1) AS locked", [key])[0].bool("locked")
    }

    /// Releases the session advisory lock `key` (`pg_advisory_unlock`).
    public func advisoryUnlock(_ key: Int64) throws {
        try query("SELECT pg_advisory_unlock($1)", [key])
    }
}
