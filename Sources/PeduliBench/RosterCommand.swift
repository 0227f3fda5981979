import ArgumentParser
import PeduliSamples

/// `peduli-bench roster`: the sample workload's sponsors as CSV (`nip,name,unit,active`), the format of
/// `peduli-worker roster import`, or for `\copy sponsors (nip,name,unit,active) FROM STDIN CSV HEADER`.
struct RosterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster", abstract: "Print the sample roster (sponsors 0..<N) as CSV.")

    @Option(help: "Number of sponsors.") var count: Int = 16_000

    func run() {
        let samples = SampleWorkload()
        var out = "nip,name,unit,active\n"
        for i in 0..<count {
            let s = samples.sponsor(i)
            out += "\(s.nip),\(s.name),\(s.unit),true\n"
        }
        print(out, terminator: "")
    }
}
