// swift-tools-version:6.2
import PackageDescription

// Benchmarks for signing-proxy: package-benchmark micro-benchmarks (Benchmarks/) and the load harness
// (Sources/LoadHarness, run by `make bench`). A separate package so that the main package never depends
// on the benchmark tooling.
//
// The code under test uses `package` access, which another package cannot see, and nothing in the main
// package is made `public` for benchmarks. `Sources/BenchmarkSubjects` therefore holds symbolic links to
// the main package's `Sources/SigningCore` and `Sources/SigningCrypto`: the same files, compiled once more
// into this package's `BenchmarkSubjects` module (no copy, no re-implementation). Their `import
// CSecp256k1` resolves to the main package's system-library module, which reaches this package through
// the SigningProxyVerifier product; the harness uses that product for what it is meant for, checking the
// signatures the proxy served during the run.

// MARK: - Settings

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// What every micro-benchmark target links: the framework, the subjects and the byte types they take.
let benchmarkDependencies: [Target.Dependency] = [
    "BenchmarkSubjects",
    .product(name: "Benchmark", package: "benchmark"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "Crypto", package: "swift-crypto"),
]

// MARK: - Package

let package = Package(
    name: "signing-proxy-benchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "load-harness", targets: ["LoadHarness"]),
        .executable(name: "chaos", targets: ["Chaos"]),
    ],
    dependencies: [
        .package(name: "signing-proxy", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // MARK: The main package's SigningCore and SigningCrypto sources (symbolic links)

        .target(
            name: "BenchmarkSubjects",
            dependencies: [
                .product(name: "SigningProxyVerifier", package: "signing-proxy"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Sources/BenchmarkSubjects",
            swiftSettings: swiftSettings
        ),

        // MARK: Micro-benchmarks (package-benchmark discovers Benchmarks/<Name>)

        .executableTarget(
            name: "Hashing",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/Hashing",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ChatIDScanning",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/ChatIDScanning",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Signing",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/Signing",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SignatureStoring",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/SignatureStoring",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "StreamPipeline",
            dependencies: benchmarkDependencies,
            path: "Benchmarks/StreamPipeline",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),

        // MARK: What the load harness and the chaos tool share: child processes, /proc probes

        .target(
            name: "HarnessSupport",
            path: "Sources/HarnessSupport",
            swiftSettings: swiftSettings
        ),

        // MARK: Load harness (`make bench`)

        .executableTarget(
            name: "LoadHarness",
            dependencies: [
                "BenchmarkSubjects",
                "HarnessSupport",
                .product(name: "SigningProxyVerifier", package: "signing-proxy"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/LoadHarness",
            swiftSettings: swiftSettings
        ),

        // MARK: Chaos soak and attack reproducers (`make soak`, `make attack`)

        .executableTarget(
            name: "Chaos",
            dependencies: [
                "HarnessSupport",
                .product(name: "SigningProxyVerifier", package: "signing-proxy"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Chaos",
            swiftSettings: swiftSettings
        ),
    ]
)
