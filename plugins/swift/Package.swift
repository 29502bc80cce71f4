// swift-tools-version: 6.0
// Plugboard plugins in Swift: the PlugboardPlugin SDK (a small HTTP/1.1 server
// speaking the plugin protocol) and the checksum-annotator example.
// No dependencies: the standard library, Foundation and Glibc only.
import PackageDescription

let package = Package(
    name: "plugboard-swift-plugins",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "PlugboardPlugin", targets: ["PlugboardPlugin"]),
        .executable(name: "checksum-annotator", targets: ["checksum-annotator"]),
    ],
    targets: [
        .target(name: "PlugboardPlugin"),
        .executableTarget(
            name: "checksum-annotator",
            dependencies: ["PlugboardPlugin"],
            path: "checksum-annotator",
            exclude: ["plugboard.yaml", "README.md", "samples.yaml"]
        ),
        .testTarget(name: "PlugboardPluginTests", dependencies: ["PlugboardPlugin", "checksum-annotator"]),
    ]
)
