import ArgumentParser

@main
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
