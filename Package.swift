// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "plugboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "plugboard", targets: ["plugboard"]),
        .library(name: "KubeCore", targets: ["KubeCore"]),
        .library(name: "DevAPIServer", targets: ["DevAPIServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // JSON values, selectors, patches and field ownership: no networking, no Kubernetes client.
        .target(name: "KubeCore", swiftSettings: strict),
        // Vector byte search for the JSON scanner (one header, inlined into Swift).
        .target(name: "CJSONScan"),
        // The work queue's lock and cache prefetch hint (fast paths in one header, inlined into Swift).
        .target(name: "CWorkQueueSupport"),
        // glibc malloc settings for processes that hold an informer cache (`AllocatorTuning`).
        .target(name: "CMallocTuning"),
        // The Kubernetes client: transport, REST verbs, errors.
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeCore", "CJSONScan", "CWorkQueueSupport",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Informers: reflector, cache with indexes, shared informers.
        .target(
            name: "Informers",
            dependencies: [
                "KubeClient", "KubeCore", "CMallocTuning",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // Work queues with client-go's semantics, rate limiters, metrics. No Kubernetes dependency.
        .target(
            name: "WorkQueue",
            dependencies: [
                "CWorkQueueSupport",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        // The plugin host: protocol, dispatch, action applier, controllers, supervised plugins.
        .target(
            name: "PluginHost",
            dependencies: [
                "KubeClient", "KubeCore", "Informers", "WorkQueue", "PluginConfig",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The host's configuration file: model, strict YAML reading, validation.
        .target(
            name: "PluginConfig",
            dependencies: ["KubeCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // The in-memory Kubernetes API server used by tests and `plugboard dev`.
        .target(
            name: "DevAPIServer",
            dependencies: [
                "KubeCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // The host's HTTP server: /metrics, /healthz, /readyz and the live dashboard.
        .target(
            name: "Observability",
            dependencies: [
                "PluginHost", "Informers", "KubeClient", "WorkQueue",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "plugboard",
            dependencies: [
                "DevAPIServer", "PluginConfig", "PluginHost", "KubeClient", "KubeCore", "Informers", "Observability",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks: `swift run -c release plugboard-bench --help`.
        .executableTarget(
            name: "plugboard-bench",
            dependencies: [
                "DevAPIServer", "KubeCore", "KubeClient", "Informers", "PluginHost", "PluginConfig", "WorkQueue", "Observability",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/PlugboardBench",
            swiftSettings: strict
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: [
                "KubeClient", "KubeCore", "DevAPIServer", "SeededRandom",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "InformersTests",
            dependencies: [
                "Informers", "KubeClient", "KubeCore", "DevAPIServer", "SeededRandom",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Shared by the test targets: a seeded generator for randomized tests.
        .target(name: "SeededRandom", path: "Tests/SeededRandom", swiftSettings: strict),
        .testTarget(name: "KubeCoreTests", dependencies: ["KubeCore"], swiftSettings: strict),
        .testTarget(
            name: "PluginHostTests",
            dependencies: [
                "PluginHost", "PluginConfig", "KubeClient", "KubeCore", "DevAPIServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WorkQueueTests",
            dependencies: ["WorkQueue", "SeededRandom", .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "Observability", "PluginHost", "PluginConfig", "KubeClient", "KubeCore", "DevAPIServer", "WorkQueue",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "PluginConfigTests", dependencies: ["PluginConfig", "KubeCore"], swiftSettings: strict),
        .testTarget(
            name: "DevAPIServerTests",
            dependencies: [
                "DevAPIServer", "KubeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
    ]
)
