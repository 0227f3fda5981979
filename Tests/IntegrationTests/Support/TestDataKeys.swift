import Foundation
import PeduliPrivacy

/// The data keys of the integration tests: the in-process worker and every `peduli-worker` the tests start
/// use the same key, so either can read what the other sealed.
enum TestDataKeys {
    static let line = "1 " + Data(repeating: 1, count: 32).base64EncodedString()
    static let keys = try! DataKeys.parse(line, file: "test keys")

    /// A key file (mode 0600) holding `line`, written once per test process.
    static let file: String = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("peduli-test-keys-\(getpid())")
        _ = FileManager.default.createFile(
            atPath: url.path, contents: Data((line + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return url.path
    }()
}
