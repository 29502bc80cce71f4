import ArgumentParser
import Foundation
import Informers

/// The entry point: malloc is tuned for an informer cache before any thread starts
/// (`AllocatorTuning`), then the command line is parsed and run.
@main
enum PlugboardMain {
    /// What the allocator tuning did, for the commands to log.
    static let allocatorTuning = AllocatorTuning.apply(environment: ProcessInfo.processInfo.environment)

    static func main() async {
        _ = allocatorTuning
        await Plugboard.main()
    }
}

struct Plugboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugboard",
        abstract: "A Kubernetes controller host that dispatches reconciles to plugins over HTTP/JSON.",
        version: PlugboardVersion.current,
        subcommands: [RunCommand.self, DevCommand.self, ValidateCommand.self]
    )
}

enum PlugboardVersion {
    static let current = "0.1.0-dev"
}
