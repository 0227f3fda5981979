import Foundation
import Testing

/// The shipped unit keeps the promises the README makes about it.
struct SystemdUnitTests {
    static func unit(filePath: String = #filePath) throws -> [String] {
        var root = URL(fileURLWithPath: filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }  // file, PeduliWorkerCommandTests, Tests
        let text = try String(contentsOf: root.appendingPathComponent("systemd/peduli-worker.service"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    /// `run` migrates and waits for the database; a separate `migrate` step failed the unit at boot.
    @Test func noSeparateMigrateStep() throws {
        #expect(!(try Self.unit()).contains { $0.hasPrefix("ExecStartPre=") })
        #expect(try Self.unit().contains("ExecStart=/usr/bin/peduli-worker run"))
    }

    /// The package ships no sysusers.d or tmpfiles.d entry: that holds only while systemd allocates the user and
    /// the worker writes nowhere.
    @Test func needsNoSysusersOrTmpfiles() throws {
        let lines = try Self.unit()
        #expect(lines.contains("DynamicUser=yes") && lines.contains("ProtectSystem=strict"))
        let needs = ["User=", "Group=", "StateDirectory=", "RuntimeDirectory=", "LogsDirectory=", "CacheDirectory="]
        #expect(!lines.contains { line in needs.contains { line.hasPrefix($0) } })
    }

    /// Memory is bounded by the kernel too, above the worker's own bound (about 320 MiB).
    @Test func memoryIsBounded() throws {
        let line = try #require(try Self.unit().first { $0.hasPrefix("MemoryMax=") })
        #expect(line == "MemoryMax=1G")
    }

    /// The stop timeout stays above the drain (20 s), and the watchdog is armed.
    @Test func stopAndWatchdog() throws {
        let lines = try Self.unit()
        #expect(
            lines.contains("TimeoutStopSec=40") && lines.contains("WatchdogSec=30") && lines.contains("Type=notify"))
    }
}
