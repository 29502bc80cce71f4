import ArgumentParser
import Foundation
import PluginConfig

/// `plugboard validate`: checks a config file the way the host would load it,
/// without contacting a cluster or starting plugins.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a Plugboard config file and report every problem in it.",
        discussion: """
            Reads the file strictly: unknown fields, wrong types and bad values are errors. On success \
            prints "FILE: OK (N plugins)"; otherwise prints each problem as FILE:LINE:COLUMN: PATH: MESSAGE \
            on standard error and exits with status 1. Paths of files and commands are resolved against \
            the config file's directory but not checked for existence, since the host may run elsewhere.
            """
    )

    @Option(name: .customLong("config"), help: ArgumentHelp("The config file to check.", valueName: "file"))
    var config: String

    func run() throws {
        do {
            let loaded = try PlugboardConfig.load(path: config)
            let count = loaded.plugins.count
            print("\(config): OK (\(count) \(count == 1 ? "plugin" : "plugins"))")
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
