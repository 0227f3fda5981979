import ArgumentParser
import Foundation

/// The entry point. For `run`, SIGTERM and SIGINT are blocked first thing, on the main thread, before the
/// Swift runtime, Foundation or libdispatch has started a thread, so every thread inherits the block and a
/// stop request can only be taken by `StopSignals.wait` (a thread of its own). A signal sent in the first
/// milliseconds, before handlers used to be installed, killed the process; now it waits, pending, and
/// becomes a graceful stop. Other commands keep the default (Ctrl-C ends them).
///
/// For `run` the main thread itself waits for the signals. It cannot be handed to `dispatchMain()`: libdispatch
/// parks the main thread in `sigsuspend` with an empty mask, so that thread takes every signal with its
/// default action (measured: SIGTERM killed the daemon although every other thread blocked it). Nothing in
/// the worker needs the main queue.
@main
enum EntryPoint {
    static func main() {
        let run = StopSignals.isRunCommand(CommandLine.arguments)
        if run { StopSignals.block() }
        Task.detached {
            await PeduliWorkerCLI.start()
            exit(ExitCodes.success)
        }
        if run { StopSignals.takeSignalsForever() }
        dispatchMain()
    }
}

extension PeduliWorkerCLI {
    /// What `AsyncParsableCommand.main()` does: parse, run, or exit with the error's code.
    static func start() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
