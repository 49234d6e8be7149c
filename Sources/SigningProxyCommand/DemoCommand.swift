import ArgumentParser
import AsyncHTTPClient
import Crypto
import DstackSimulator
import Foundation
import Hummingbird
import Logging
import MockVLLM
import NIOCore
import SigningCore
import SigningCrypto
import ServiceLifecycle
import SigningProxyServer
import TEE

/// `signing-proxy demo`: mock vLLM, dstack simulator and the proxy in one process on loopback.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run mock vLLM, the dstack simulator and the proxy on loopback, then self-check a signed stream.",
        discussion: """
            Keys are derived by the in-process dstack simulator, so the attestation report is complete but \
            states mode "simulated": its quote is a recorded one with patched report data, which fails the \
            hardware (DCAP) signature by design.
            """
    )

    @Option(help: "Port for the proxy (0 picks a free one).")
    var port = 8000

    @Option(help: "Directory with the dstack simulator fixtures (default: Fixtures/dstack).")
    var fixtures: String?

    @Flag(help: "Exit after the self-check, with its result as the exit status.")
    var checkOnly = false

    func run() async throws {
        LoggingSetup.bootstrap(format: "text")
        var logger = Logger(label: "demo")
        logger.logLevel = .warning
        let fixtures = try Self.fixturesDirectory(fixtures)
        let socketDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("signing-proxy-demo-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
        let socketPath = socketDirectory.appendingPathComponent("dstack.sock").path
        defer { try? FileManager.default.removeItem(at: socketDirectory) }

        let passed = try await withThrowingTaskGroup(of: Void.self) { group -> Bool in
            let (mockPorts, mockPort) = AsyncStream.makeStream(of: Int.self)
            let mock = buildMockVLLMApplication(
                configuration: MockVLLMConfiguration(tokens: 16, delay: .milliseconds(5)), logger: logger
            ) { mockPort.yield($0) }
            let mockGroup = Self.serviceGroup(mock, logger: logger)
            group.addTask { try await mockGroup.run() }

            let (simulatorReady, ready) = AsyncStream.makeStream(of: Void.self)
            let simulator = try buildDstackSimulatorApplication(
                configuration: DstackSimulatorConfiguration(socketPath: socketPath, fixturesDirectory: fixtures),
                logger: logger
            ) { ready.yield() }
            let simulatorGroup = Self.serviceGroup(simulator, logger: logger)
            group.addTask { try await simulatorGroup.run() }

            guard let upstreamPort = await mockPorts.first(where: { _ in true }) else { return false }
            _ = await simulatorReady.first { _ in true }

            var configuration = ProxyConfiguration()
            configuration.host = "127.0.0.1"
            configuration.port = port
            configuration.upstream = "http://127.0.0.1:\(upstreamPort)"
            configuration.modelName = "tiny"
            configuration.tokens = ["demo-token"]
            configuration.dstackEndpoint = socketPath
            configuration.gpuNoHardwareMode = true
            let resolved = try await KeySource.resolve(configuration: configuration, mode: .simulated, logger: logger)
            let proxy = ProxyApplication(configuration: configuration, keys: resolved.keys, attestation: resolved.attestation)
            let (proxyPorts, proxyPort) = AsyncStream.makeStream(of: Int.self)
            let app = try proxy.makeApplication(logger: logger) { proxyPort.yield($0) }
            let proxyGroup = Self.serviceGroup(app, logger: logger)
            group.addTask { try await proxyGroup.run() }
            guard let port = await proxyPorts.first(where: { _ in true }) else { return false }

            let base = "http://127.0.0.1:\(port)"
            Self.printBanner(base: base, keys: resolved.keys)
            let passed = await DemoSelfCheck(base: base, token: "demo-token", keys: resolved.keys).run()
            if checkOnly {
                // Graceful, in dependency order: the proxy first, then what it talks to.
                await proxyGroup.triggerGracefulShutdown()
                await simulatorGroup.triggerGracefulShutdown()
                await mockGroup.triggerGracefulShutdown()
                try await group.waitForAll()
                return passed
            }
            print("\nServing until interrupted (Ctrl-C).")
            try await group.waitForAll()
            return passed
        }
        if !passed { throw ExitCode.failure }
    }

    /// One service with graceful shutdown on SIGINT/SIGTERM and a short drain.
    static func serviceGroup(_ service: some Service, logger: Logger) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigint, .sigterm], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(2)
        return ServiceGroup(configuration: configuration)
    }

    static func fixturesDirectory(_ explicit: String?) throws -> String {
        let candidates = explicit.map { [$0] } ?? ["Fixtures/dstack"]
        for candidate in candidates
        where FileManager.default.fileExists(atPath: (candidate as NSString).appendingPathComponent("appkeys.json")) {
            return candidate
        }
        throw ValidationError("no dstack fixtures found in \(candidates.joined(separator: " or ")); pass --fixtures DIR")
    }

    static func printBanner(base: String, keys: SigningKeys) {
        print(
            """
            signing-proxy demo: mock vLLM + dstack simulator + proxy on loopback
              proxy:            \(base)
              signing address:  \(keys.ecdsaAddress.checksummed) (derived by the simulated dstack agent)
              ed25519 key:      \(keys.ed25519PublicKeyHex)

            Try it (token demo-token):
              curl -sN \(base)/v1/chat/completions -H 'Authorization: Bearer demo-token' \\
                -H 'Content-Type: application/json' \\
                -d '{"model":"tiny","messages":[{"role":"user","content":"hello"}],"stream":true}'
              curl -s '\(base)/v1/signature/<chat id from the stream>' -H 'Authorization: Bearer demo-token'
              curl -s '\(base)/v1/attestation/report?nonce='$(openssl rand -hex 32)

            Self-check:
            """)
    }
}
