import ArgumentParser

/// `peduli-bench`: measurements against real services (see `scripts/services`).
struct PeduliBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peduli-bench",
        abstract: "Benchmarks for peduli-worker's clients and pipeline.",
        subcommands: [LoadCommand.self, RosterCommand.self, TapCommand.self, AMQPRoundTripCommand.self]
    )
}

PeduliBench.main()
