import Foundation
import PeduliDomain
import PeduliSettings
import Testing

@testable import PeduliWorker

/// The repository's own documents (docs/contract.md, docs/rules.md, docs/operations.md) against the code:
/// every configuration key with its default, every error code with its Indonesian message, every park reason;
/// and nothing in the repository points outside it.
struct ProjectDocumentsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test(arguments: ConfigurationKeys.all)
    func operationsListsEveryKeyWithItsDefault(key: ConfigurationKey) throws {
        let text = try Self.read("docs/operations.md")
        let row = text.split(separator: "\n").first { $0.hasPrefix("| `\(key.name)` |") }
        let line = try #require(row, "docs/operations.md has no row for \(key.name)")
        if let value = key.defaultValue, !value.isEmpty {
            #expect(line.contains("`\(value)`"), "\(key.name): default \(value) not in \(line)")
        }
    }

    @Test(arguments: RuleCode.allCases)
    func contractListsEveryCodeWithItsMessage(code: RuleCode) throws {
        let text = try Self.read("docs/contract.md")
        let row = text.split(separator: "\n").first { $0.hasPrefix("| `\(code.rawValue)` |") }
        let line = try #require(row, "docs/contract.md has no row for \(code.rawValue)")
        #expect(line.contains(code.defaultMessage), "\(code.rawValue): message not in \(line)")
    }

    @Test(arguments: ParkReason.allCases)
    func contractListsEveryParkReason(reason: ParkReason) throws {
        #expect(try Self.read("docs/contract.md").contains("`\(reason.rawValue)`"))
    }

    /// A clone of the repository is all a reader has: no document, comment or script cites a path outside it.
    @Test func nothingPointsOutsideTheRepository() throws {
        let outside = ["../shared", "shared/spec", "CONTRACT.md", "RULES.md", "OPERATIONS.md", "LIBRARIES.md"]
        var offenders: [String] = []
        for folder in ["Sources", "Tests", "docs", "scripts", "config", "systemd", ".ci"] {
            let base = Self.root.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
                continue
            }
            for case let url as URL in files where !url.hasDirectoryPath {
                guard url.lastPathComponent != "ProjectDocumentsTests.swift",
                    let text = try? String(contentsOf: url, encoding: .utf8)
                else { continue }
                for needle in outside where text.contains(needle) { offenders.append("\(url.path): \(needle)") }
            }
        }
        for file in ["README.md", "Package.swift"] {
            let text = try Self.read(file)
            for needle in outside where text.contains(needle) { offenders.append("\(file): \(needle)") }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}
