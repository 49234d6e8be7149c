import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MockVLLM
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SigningCore
import SigningProxyServer
import TestFixtures
import Testing

/// Runs a mock vLLM and the proxy in-process on loopback ports for one test, then shuts both down.
struct ProxyHarness: Sendable {
    let proxyURL: String
    let upstreamURL: String
    let stats: MockVLLMStats
    let proxy: ProxyApplication
    /// Starts the proxy's graceful shutdown (stop accepting, let in-flight responses finish).
    let shutdown: @Sendable () async -> Void
    let token = "test-token"

    static let logger = Logger(label: "test")

    /// - Parameters:
    ///   - mock: the upstream's behaviour; `nil` points the proxy at a closed port instead.
    ///   - configure: adjusts the proxy configuration (dev keys, limits, timeouts).
    static func run(
        mock: MockVLLMConfiguration? = MockVLLMConfiguration(),
        configure: @Sendable (inout ProxyConfiguration) -> Void = { _ in },
        _ body: @Sendable (ProxyHarness) async throws -> Void
    ) async throws {
        let stats = MockVLLMStats()
        guard let mock else {
            try await runProxy(upstreamURL: "http://127.0.0.1:\(closedPort())", stats: stats, configure: configure, body)
            return
        }
        // Both servers shut down gracefully (stop accepting, then drain), never by cancellation: a
        // connection accepted while a server is torn down by cancellation can trap inside NIO.
        try await withMockVLLM(configuration: mock, stats: stats, logger: logger) { port in
            try await runProxy(upstreamURL: "http://127.0.0.1:\(port)", stats: stats, configure: configure, body)
        }
    }

    private static func runProxy(
        upstreamURL: String,
        stats: MockVLLMStats,
        configure: @Sendable (inout ProxyConfiguration) -> Void,
        _ body: @Sendable (ProxyHarness) async throws -> Void
    ) async throws {
        var configuration = ProxyConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.upstream = upstreamURL
        configuration.modelName = "tiny"
        configuration.tokens = ["test-token", "second-token"]
        configuration.dev = true
        configuration.devKeySeed = "harness"
        configure(&configuration)
        let keys = SigningKeys.dev(seed: configuration.devKeySeed)
        let proxy = ProxyApplication(
            configuration: configuration, keys: keys,
            attestation: UnavailableAttestation(reason: "Attestation unavailable: dev mode")
        )
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try proxy.makeApplication(logger: logger) { port in continuation.yield(port) }
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let port = try #require(await ports.first { _ in true })
            let harness = ProxyHarness(
                proxyURL: "http://127.0.0.1:\(port)", upstreamURL: upstreamURL, stats: stats, proxy: proxy,
                shutdown: { await services.triggerGracefulShutdown() })
            let outcome: Result<Void, any Error>
            do {
                try await body(harness)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            try outcome.get()
        }
    }

    /// A port that refuses connections for the whole test run (see `RefusedPort`).
    static func closedPort() -> Int { RefusedPort.port }

    // MARK: Client helpers

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        }
    }

    func send(
        _ method: HTTPMethod = .POST,
        _ path: String,
        body: [UInt8]? = nil,
        headers: [(String, String)]? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: proxyURL + path)
        request.method = method
        for (name, value) in headers ?? [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")] {
            request.headers.add(name: name, value: value)
        }
        if let body { request.body = .bytes(body) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 256 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView))
    }

    /// The record stored for `chatID`, once published: a record becomes visible only after its answer's
    /// delivery is confirmed, shortly after the client read the last byte (at most 2 s here).
    func storedRecord(_ chatID: String) async throws -> SignatureRecord? {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            if let record = proxy.store.lookup(ChatID(chatID)) { return record }
            if ContinuousClock.now > deadline { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func signature(_ chatID: String, algorithm: String? = nil) async throws -> Answer {
        let query = algorithm.map { "?signing_algo=\($0)" } ?? ""
        return try await send(.GET, "/v1/signature/\(chatID)\(query)")
    }
}

/// The repository's fixture locator (`Fixtures/`), visible to every file of this module without an import.
typealias Fixtures = TestFixtures.Fixtures
