/// One statement of a ``PostgresConnection/pipeline(_:)``.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var parameters: [PostgresValue?]

    public init(_ sql: String, _ parameters: [PostgresValue?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension PostgresStatement {
    /// `pg_notify(channel, payload)`: delivered to the channel's listeners when the surrounding transaction
    /// commits (at once outside one). The one way this package sends a notification.
    public static func notify(channel: String, payload: String = "") -> PostgresStatement {
        PostgresStatement("SELECT pg_notify($1, $2)", [channel, payload])
    }
}
