import Foundation
import Testing

/// What `scripts/services` leaves on disk and what the command line prints: private to root, no secret shown.
@Suite(.serialized) struct ServicesPrivacyTests {
    static var stateDirectory: String {
        ProcessInfo.processInfo.environment["PEDULI_STATE_DIR"] ?? ""
    }

    /// Nothing under the state folder is open to other users (the quorum queue's write-ahead log held 7,274
    /// NIKs readable as `nobody`); postgres may only pass through to its own folder.
    @Test func theStateFolderIsPrivate() throws {
        let state = Self.stateDirectory
        try #require(!state.isEmpty && FileManager.default.fileExists(atPath: state))
        let open = try Self.shell("find \(state) ! -type s ! -type l -perm /o=rwx -print")
        #expect(open.isEmpty, "open to others: \(open.prefix(400))")
        let groupOpen = try Self.shell("find \(state) ! -type s ! -type l -perm /g=rw -print")
        #expect(groupOpen.isEmpty, "open to the group: \(groupOpen.prefix(400))")
        let asNobody = try Self.shell(
            "runuser -u nobody -- find \(state) -type f -readable 2>/dev/null | head -5; true")
        #expect(asNobody.isEmpty, "readable by nobody: \(asNobody)")
    }

    /// A comma is legal in a password; `check-config` must neither cut the URL there nor show any of it.
    @Test func aCommaInTheAMQPPasswordIsNeitherCutNorShown() async throws {
        let result = try await WorkerProcess.run(
            ["check-config"],
            environment: [
                "PEDULI_AMQP_URL": "amqp://peduli:s3cr,etPW@broker.example:5672/",
                "PEDULI_DATABASE_URL": "postgresql://peduli:pg,secret@db.example/peduli",
            ])
        let output = result.stdout + result.stderr
        #expect(!output.contains("etPW") && !output.contains("s3cr") && !output.contains("secret"), "\(output)")
        #expect(output.contains("amqp://peduli:***@broker.example:5672/"))
    }

    static func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
