// swift-tools-version:6.2
import PackageDescription

// MARK: - Settings

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

// MARK: - Dependencies

let package = Package(
    name: "signing-proxy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "signing-proxy", targets: ["SigningProxyCommand"]),
        .executable(name: "mock-vllm", targets: ["MockVLLMCommand"]),
        .executable(name: "dstack-simulator", targets: ["DstackSimulatorCommand"]),
        // The one library meant for others: apps and agents link it to verify responses.
        .library(name: "SigningProxyVerifier", targets: ["SigningProxyVerifier"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // MARK: C shim and crypto

        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "SigningCrypto",
            dependencies: [
                "CSecp256k1",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The contract between proxy and verifier: algorithm names, signed text, report_data, key chain

        .target(
            name: "SigningContract",
            dependencies: [
                "SigningCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Core: hashing, scanning, signing, store (transport-agnostic)

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
            swiftSettings: swiftSettings
        ),

        // MARK: TDX quote layout, event log, RTMR replay (shared by simulator, proxy and verifier)

        .target(
            name: "TDX",
            dependencies: [
                "SigningCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: TEE: dstack agent client, key derivation, attestation report, GPU evidence

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
            swiftSettings: swiftSettings
        ),

        // MARK: HTTP server (the application as a library)

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
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Test doubles shipped as executables

        .target(
            name: "MockVLLM",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DstackSimulator",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "SigningContract",
                "SigningCrypto",
                "TDX",
                "TEE",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: E2EE: the field-encryption dialects clients send (ciphers, headers, AAD, replay)

        .target(
            name: "E2EE",
            dependencies: [
                "CSodium",
                "CSecp256k1",
                "SigningCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Redis client (RESP2 on SwiftNIO) for the shared receipt store

        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Verifier library product

        .target(
            name: "SigningProxyVerifier",
            dependencies: [
                "SigningContract",
                "SigningCrypto",
                "TDX",
                // EncryptedChat: the E2EE dialects' client side, for agents that talk to the proxy encrypted.
                "E2EE",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Thin executables

        .executableTarget(
            name: "SigningProxyCommand",
            dependencies: [
                "SigningProxyServer",
                "SigningProxyVerifier",
                "SigningContract",
                "SigningCore",
                "SigningCrypto",
                "TEE",
                "MockVLLM",
                "DstackSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MockVLLMCommand",
            dependencies: [
                "MockVLLM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "DstackSimulatorCommand",
            dependencies: [
                "DstackSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests

        // Finds `Fixtures/` for every test target (a plain target: test targets cannot share a source file).
        .target(name: "TestFixtures", path: "Tests/TestFixtures", swiftSettings: swiftSettings),
        .testTarget(
            name: "SigningCryptoTests",
            dependencies: ["SigningCrypto", "TestFixtures", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigningContractTests",
            dependencies: ["SigningContract", "SigningCrypto", "TestFixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigningCoreTests",
            dependencies: ["SigningCore", "SigningCrypto", "TestFixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TDXTests", dependencies: ["TDX", "TestFixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TEETests",
            dependencies: ["TEE", "TDX", "SigningContract", "SigningCrypto", "DstackSimulator", "TestFixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MockVLLMTests",
            dependencies: [
                "MockVLLM",
                "TestFixtures",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigningProxyServerTests",
            dependencies: [
                "SigningProxyServer",
                "SigningCore",
                "SigningCrypto",
                "MockVLLM",
                "DstackSimulator",
                "TEE",
                "TestFixtures",
                "RedisClient",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "E2EETests",
            dependencies: [
                "E2EE",
                "SigningCrypto",
                "TestFixtures",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient",
                "TestFixtures",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SigningProxyVerifierTests",
            dependencies: [
                "SigningProxyVerifier",
                "SigningContract",
                // EncryptedChatTests answer as the proxy does, with E2EE's server side.
                "E2EE",
                "SigningCrypto",
                "TDX",
                "TestFixtures",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
