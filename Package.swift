// swift-tools-version: 6.1
// peduli-worker: the back end of Kota Semarang's "PNS Peduli Pekerja Rentan" programme.
//
// Layers (arrows point one way):
//   CRabbitMQ, CLibPQ (system libraries); PeduliBase (pure-Swift helpers every layer shares: threads,
//   blocking sleep, hex, civil dates, Duration units); PeduliSettings (every configuration key: default,
//   range, meaning, and the one error type; no I/O)
//     -> AMQPClient, PostgresClient (thin Swift clients, no C types in their API)
//     -> PeduliDomain (the programme's rules, no I/O)
//     -> PeduliWorker (consume, decide, store, outbox, retries, scheduler)
//     -> PeduliWorkerCommand (the `peduli-worker` executable: CLI, config, signals, systemd)
import PackageDescription

let package = Package(
    name: "peduli-worker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "peduli-worker", targets: ["PeduliWorkerCommand"]),
        .executable(name: "peduli-bench", targets: ["PeduliBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C system libraries: never exported as products.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),

        // Helpers shared by the clients and everything above them: no dependencies, no C.
        .target(name: "PeduliBase"),

        // Thin Swift clients.
        .target(
            name: "AMQPClient",
            dependencies: ["CRabbitMQ", "PeduliBase", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "PostgresClient",
            dependencies: ["CLibPQ", "PeduliBase", .product(name: "Logging", package: "swift-log")]
        ),

        // Personal data at rest: the data keys, AES-256-GCM per value, the NIK's keyed hash.
        .target(name: "PeduliPrivacy", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // The configuration key table and its checks: pure, no dependencies, no I/O.
        .target(name: "PeduliSettings"),

        // The programme's rules: pure, no I/O beyond the configuration loader.
        .target(name: "PeduliDomain", dependencies: ["PeduliBase", "PeduliSettings"]),

        // Realistic sample commands (demo, integration tests, load generator).
        .target(name: "PeduliSamples", dependencies: ["PeduliDomain"]),

        // The worker pipeline.
        .target(
            name: "PeduliWorker",
            dependencies: [
                "AMQPClient", "PostgresClient", "PeduliDomain", "PeduliSettings", "PeduliBase", "PeduliPrivacy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Executables.
        .executableTarget(
            name: "PeduliWorkerCommand",
            dependencies: [
                "PeduliWorker", "PeduliDomain", "PeduliSettings", "AMQPClient", "PostgresClient", "PeduliBase",
                "PeduliPrivacy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "PeduliBench",
            dependencies: [
                "AMQPClient", "PostgresClient", "PeduliDomain", "PeduliSamples",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        // Helpers shared by test targets (never shipped).
        .target(name: "PeduliTestSupport", dependencies: ["PeduliBase"], path: "Tests/PeduliTestSupport"),

        // Unit tests: fast, no servers.
        .testTarget(name: "PeduliSettingsTests", dependencies: ["PeduliSettings"]),
        .testTarget(name: "PeduliPrivacyTests", dependencies: ["PeduliPrivacy"]),
        // CBridgeTests reaches librabbitmq itself: the client imports it internally only.
        .testTarget(name: "AMQPClientTests", dependencies: ["AMQPClient", "CRabbitMQ"]),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient"]),
        .testTarget(
            name: "PeduliDomainTests",
            dependencies: [
                "PeduliDomain", "PeduliSamples",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "PeduliWorkerTests",
            dependencies: ["PeduliWorker", "PeduliDomain", "PeduliSamples", "PeduliTestSupport"]),
        .testTarget(
            name: "PeduliWorkerCommandTests",
            dependencies: [
                "PeduliWorkerCommand", "PeduliWorker", "PeduliDomain", "PeduliSettings", "PeduliTestSupport",
            ]
        ),

        // Integration tests: a real RabbitMQ and PostgreSQL (scripts/services), never skipped.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "AMQPClient", "PostgresClient", "PeduliDomain", "PeduliWorker", "PeduliSamples", "PeduliTestSupport",
                "PeduliBase", "PeduliPrivacy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
