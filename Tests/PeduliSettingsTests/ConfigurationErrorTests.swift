import Testing

@testable import PeduliSettings

@Suite("Configuration error")
struct ConfigurationErrorTests {
    @Test("descriptions name the key, value, origin and what is expected")
    func descriptions() {
        let invalid = ConfigurationError(
            code: "invalid_value", key: "worker.prefetch", value: "0", expected: "an integer from 1 to 65535")
        #expect(invalid.description == "worker.prefetch = \"0\": expected an integer from 1 to 65535")
        #expect(
            invalid.from(.environment(name: "PEDULI_WORKER_PREFETCH")).description
                == "worker.prefetch = \"0\" (from environment PEDULI_WORKER_PREFETCH): expected an integer from 1 to 65535"
        )
        let missing = ConfigurationError(
            code: "missing_value", key: "amqp.url", value: nil, expected: "set PEDULI_AMQP_URL")
        #expect(missing.description == "amqp.url is not set: set PEDULI_AMQP_URL")
    }

    @Test("a catalogue problem says its file and line")
    func fileAndLine() {
        let error = ConfigurationError(
            code: "bad_row", key: "catalogues.directory", value: nil, expected: "empty field",
            origin: .file(path: "kecamatan.csv", line: 4))
        #expect(error.file == "kecamatan.csv" && error.line == 4)
        #expect(error.description == "catalogues.directory (from kecamatan.csv:4): empty field")
        #expect(error.from(nil).file == nil)
    }
}
