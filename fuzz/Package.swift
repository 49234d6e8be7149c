// swift-tools-version:6.2
import PackageDescription

// Coverage-guided fuzzing of signing-proxy's input parsers with libFuzzer (`make fuzz`, fuzz/README.md).
//
// A separate package, so the main build never sees the sanitizer flags. The parsers use `package` and
// internal access, which another package cannot see, and nothing is made `public` for fuzzing. So
// `Sources/<Module>` here are symbolic links to the main package's own source folders: the same files,
// compiled once more under the same module names (the fuzz package does not depend on the main package,
// so the names do not clash). The harnesses reach internal parsers with `@testable import`, which is why
// the project modules are built with `-enable-testing`.
//
// Only the project's modules and the harnesses carry libFuzzer's coverage instrumentation and
// AddressSanitizer; the dependencies are built plainly, so coverage measures the project's code and
// executions are not slowed by instrumented library internals.
//
// `signing-proxy-fuzz` has its own `main` and hands control to libFuzzer through `LLVMFuzzerRunDriver`
// (SwiftPM links an executable's entry point as `main`, which would collide with libFuzzer's). Its
// first argument names the target; the rest are libFuzzer's flags and corpus directories.

// MARK: - Settings

/// `FUZZ_COVERAGE=1` (`fuzz/coverage.sh`, in its own build folder) swaps AddressSanitizer for clang's
/// source-based coverage, to report line coverage of what the corpora reach.
let coverageBuild = Context.environment["FUZZ_COVERAGE"] == "1"
let sanitizers = coverageBuild ? "-sanitize=fuzzer" : "-sanitize=fuzzer,address"
let profiling = coverageBuild ? ["-profile-generate", "-profile-coverage-mapping"] : []

/// The main package's settings, plus instrumentation.
let instrumented: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .unsafeFlags([sanitizers, "-enable-testing"] + profiling),
]

// MARK: - Package

let package = Package(
    name: "signing-proxy-fuzz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "signing-proxy-fuzz", targets: ["SigningProxyFuzz"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // MARK: The main package's modules (symbolic links to ../Sources/<Module>)

        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .target(
            name: "SigningCrypto",
            dependencies: [
                "CSecp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: instrumented
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "E2EE",
            dependencies: [
                "CSodium",
                "CSecp256k1",
                "SigningCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: instrumented
        ),
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: instrumented
        ),
        .target(
            name: "SigningContract",
            dependencies: [
                "SigningCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: instrumented
        ),
        .target(
            name: "SigningCore",
            dependencies: [
                "SigningContract",
                "SigningCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: instrumented
        ),
        .target(
            name: "TDX",
            dependencies: [
                "SigningCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: instrumented
        ),
        .target(
            name: "TEE",
            dependencies: [
                "SigningContract",
                "SigningCrypto",
                "SigningCore",
                "TDX",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: instrumented
        ),
        .target(
            name: "SigningProxyVerifier",
            dependencies: [
                "SigningContract",
                "SigningCrypto",
                "TDX",
                "E2EE",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: instrumented
        ),

        .target(
            name: "SigningProxyServer",
            dependencies: [
                "SigningCore",
                "SigningCrypto",
                "TEE",
                "E2EE",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: instrumented
        ),

        // MARK: Harnesses and driver

        .target(name: "CFuzzerDriver"),
        .target(
            name: "FuzzTargets",
            dependencies: [
                "SigningCore",
                "SigningCrypto",
                "TDX",
                "TEE",
                "SigningProxyVerifier",
                "SigningProxyServer",
                "RedisClient",
                "E2EE",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: instrumented
        ),
        .executableTarget(
            name: "SigningProxyFuzz",
            dependencies: ["FuzzTargets", "CFuzzerDriver"],
            swiftSettings: instrumented,
            // lld: ld.gold stops with an internal error on this link.
            // The coverage build is a debug build, linked without --gc-sections, which would otherwise drop
            // libFuzzer's own `main` (pulled in from its archive, and unused beside ours).
            linkerSettings: [
                .unsafeFlags([sanitizers, "-use-ld=lld"] + (coverageBuild ? ["-profile-generate", "-Xlinker", "--gc-sections"] : []))
            ]
        ),
    ]
)
