import Foundation
import Logging
import Synchronization
import Testing

@testable import PeduliWorkerCommand

@Suite("Operations: LogfmtLogHandler")
struct OperationsLogfmtLogHandlerTests {
    @Test(
        "values are quoted and escaped only when needed",
        arguments: [
            ("plain", "plain"),
            ("peduli.payments", "peduli.payments"),
            ("", "\"\""),
            ("two words", "\"two words\""),
            ("a=b", "\"a=b\""),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("back\\slash", "\"back\\\\slash\""),
            ("line1\nline2", "\"line1\\nline2\""),
            ("cr\rtab\t", "\"cr\\rtab\\t\""),
            ("bell\u{07}", "\"bell\\u{7}\""),
            ("del\u{7F}", "\"del\\u{7f}\""),
            ("sep\u{2028}x", "\"sep\\u{2028}x\""),
            ("Sémarang", "Sémarang"),
            ("nbsp\u{A0}x", "\"nbsp\u{A0}x\""),
        ])
    func quoting(input: String, expected: String) {
        #expect(LogfmtLogHandler.quoted(input) == expected)
    }

    @Test(
        "keys are sanitised so they cannot break the line",
        arguments: [("queue", "queue"), ("a b", "a_b"), ("k=v", "k_v"), ("", "_"), ("q\"", "q_"), ("é", "_")])
    func keys(input: String, expected: String) {
        #expect(LogfmtLogHandler.sanitizedKey(input) == expected)
    }

    @Test("a line has ts, level, logger, msg, then metadata sorted by key")
    func lineLayout() {
        let date = Date(timeIntervalSince1970: 1_764_051_300.123)  // 2025-11-25T06:15:00.123Z
        let line = LogfmtLogHandler.format(
            level: .info, message: "consumer started", label: "peduli",
            metadata: ["zeta": "1", "alpha": "two words", "msg": "forged", "list": .array(["a", "b"])],
            date: date, journalPriority: false)
        #expect(
            line
                == "ts=2025-11-25T06:15:00.123Z level=info logger=peduli msg=\"consumer started\" alpha=\"two words\" list=\"[a, b]\" meta_msg=forged zeta=1\n"
        )
    }

    @Test(
        "journald mode prefixes the syslog priority and leaves out the timestamp",
        arguments: [
            (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ])
    func journalPrefix(level: Logger.Level, priority: Int) {
        let line = LogfmtLogHandler.format(
            level: level, message: "m", label: "l", metadata: [:], date: nil, journalPriority: true)
        #expect(line == "<\(priority)>level=\(level.rawValue) logger=l msg=m\n")
    }

    @Test(
        "timestamps are UTC RFC 3339 with milliseconds",
        arguments: [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (1_764_051_300.5, "2025-11-25T06:15:00.500Z"),
            (951_782_400.999, "2000-02-29T00:00:00.999Z"),
            (-0.001, "1969-12-31T23:59:59.999Z"),
        ])
    func timestamps(seconds: Double, expected: String) {
        #expect(LogfmtLogHandler.timestamp(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("the handler merges handler, provider and event metadata and writes one line to its sink")
    func handlerWritesThroughSink() {
        let lines = Mutex<[String]>([])
        var handler = LogfmtLogHandler(
            label: "peduli.test", logLevel: .debug, journal: true,
            metadataProvider: Logger.MetadataProvider { ["trace": "t1"] },
            sink: { line in lines.withLock { $0.append(line) } })
        handler[metadataKey: "queue"] = "peduli.payments"
        var logger = Logger(label: "peduli.test", factory: { _ in handler })
        logger.logLevel = .debug
        logger.warning("retry scheduled", metadata: ["attempt": "2", "queue": "peduli.registrations"])
        logger.trace("hidden")
        let written = lines.withLock { $0 }
        #expect(
            written == [
                "<4>level=warning logger=peduli.test msg=\"retry scheduled\" attempt=2 queue=peduli.registrations trace=t1\n"
            ])
    }

    @Test(
        "JOURNAL_STREAM counts only when it names fd 2",
        arguments: [[:], ["JOURNAL_STREAM": "garbage"], ["JOURNAL_STREAM": "1:2"], ["JOURNAL_STREAM": ""]])
    func journalDetection(environment: [String: String]) {
        #expect(!LogfmtLogHandler.standardErrorIsJournal(environment: environment))
    }

    @Test("JOURNAL_STREAM matching fd 2's device and inode turns journal mode on")
    func journalDetectionMatches() {
        var status = stat()
        #expect(fstat(2, &status) == 0)
        let environment = ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]
        #expect(LogfmtLogHandler.standardErrorIsJournal(environment: environment))
    }
}
