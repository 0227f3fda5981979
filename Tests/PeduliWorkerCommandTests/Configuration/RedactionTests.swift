import PeduliSettings
import Testing

@testable import PeduliWorkerCommand

@Suite("Configuration redaction")
struct ConfigurationErrorTests {
    @Test(
        "passwords are removed from URLs and connection strings",
        arguments: [
            ("amqp://worker:s3cr3t@broker:5672/%2F", "amqp://worker:***@broker:5672/%2F"),
            ("amqp://worker@broker/", "amqp://worker@broker/"),
            ("amqp://broker/", "amqp://broker/"),
            ("amqps://a:p1@h1:5671/,amqps://b:p2@h2:5671/", "amqps://a:***@h1:5671/,amqps://b:***@h2:5671/"),
            ("amqp://u:p@ss/w@rd@host/vh", "amqp://u:***@host/vh"),
            ("amqp://peduli:s3cr,etPW@broker/", "amqp://peduli:***@broker/"),
            ("amqp://a:x,y@h1/,amqp://b:z,w@h2/", "amqp://a:***@h1/,amqp://b:***@h2/"),
            (
                "postgresql://u:pw@h1:5432,h2:5432/db?sslmode=require",
                "postgresql://u:***@h1:5432,h2:5432/db?sslmode=require"
            ),
            ("postgresql://u@h/db?password=pw&sslmode=require", "postgresql://u@h/db?password=***&sslmode=require"),
            ("host=db user=worker password=s3cr3t dbname=peduli", "host=db user=worker password=*** dbname=peduli"),
            ("host=db password = 'a b\\' c' dbname=peduli", "host=db password=*** dbname=peduli"),
            ("host=db PASSWORD=x", "host=db password=***"),
            ("host=db passwordless=1", "host=db passwordless=1"),
        ])
    func redaction(input: String, expected: String) {
        #expect(Redaction.redact(key: "database.url", value: input) == expected)
    }

    @Test("*.password keys are masked whole; other keys are shown as they are")
    func passwordKeys() {
        #expect(Redaction.redact(key: "amqp.tls.key_password", value: "hunter2") == "***")
        #expect(Redaction.redact(key: "x.password", value: "hunter2") == "***")
        #expect(Redaction.redact(key: "worker.prefetch", value: "password=1") == "password=1")
    }

    @Test("an error's description never holds the redacted secret")
    func description() {
        let error = ConfigurationError(
            code: "invalid_value", key: "amqp.url",
            value: Redaction.redact(key: "amqp.url", value: "ftp://u:topsecret@h"),
            expected: "an amqp:// URL", origin: .environment(name: "PEDULI_AMQP_URL"))
        #expect(
            error.description
                == "amqp.url = \"ftp://u:***@h\" (from environment PEDULI_AMQP_URL): expected an amqp:// URL")
    }
}
