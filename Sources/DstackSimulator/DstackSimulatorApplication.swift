import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds the dstack guest-agent test double listening on `configuration.socketPath`.
///
/// Fixtures are loaded and checked here, so a bad fixtures directory fails before anything listens.
/// - Parameter onServerRunning: called once the socket accepts connections.
/// - Throws: `DstackSimulatorError` for missing or inconsistent fixtures.
package func buildDstackSimulatorApplication(
    configuration: DstackSimulatorConfiguration,
    logger: Logger,
    onServerRunning: @escaping @Sendable () async -> Void = {}
) throws -> some ApplicationProtocol {
    let evidence = try DstackSimulatedEvidence(
        fixturesDirectory: configuration.fixturesDirectory, mode: configuration.quoteMode)
    let appKeysPath = URL(fileURLWithPath: configuration.fixturesDirectory).appendingPathComponent("appkeys.json")
    guard let appKeys = try? Data(contentsOf: appKeysPath) else {
        throw DstackSimulatorError.fixture("appkeys.json", "cannot read \(appKeysPath.path)")
    }
    let issuer = try DstackKeyIssuer(appKeysJSON: Array(appKeys))
    let responder = DstackSimulatorResponder(configuration: configuration, evidence: evidence, issuer: issuer)
    return Application(
        responder: responder,
        configuration: ApplicationConfiguration(
            address: .unixDomainSocket(path: configuration.socketPath),
            serverName: "dstack-simulator"),
        onServerRunning: { _ in await onServerRunning() },
        logger: logger)
}

/// Runs the simulator in-process for the duration of `body`, then shuts it down.
///
/// `body` receives the socket path once the simulator accepts connections.
/// - Throws: whatever building or starting the simulator throws, or what `body` throws.
package func withDstackSimulator<T: Sendable>(
    configuration: DstackSimulatorConfiguration,
    logger: Logger,
    _ body: @Sendable (String) async throws -> T
) async throws -> T {
    let (started, continuation) = AsyncStream<Void>.makeStream()
    let application = try buildDstackSimulatorApplication(
        configuration: configuration, logger: logger, onServerRunning: { continuation.yield() })
    // Shut down gracefully, never by cancellation: a connection accepted while the server is torn
    // down by cancellation can trap inside NIO.
    var groupConfiguration = ServiceGroupConfiguration(services: [application], logger: logger)
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(1)
    let serviceGroup = ServiceGroup(configuration: groupConfiguration)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { continuation.finish() }
            try await serviceGroup.run()
        }
        var iterator = started.makeAsyncIterator()
        guard await iterator.next() != nil else {
            // The server stopped before it started listening: surface its error.
            try await group.next()
            throw DstackSimulatorError.inconsistent("simulator stopped before listening on \(configuration.socketPath)")
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(configuration.socketPath))
        } catch {
            result = .failure(error)
        }
        await serviceGroup.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// Where the dstack fixtures are when `--fixtures` is not given.
///
/// Tries `Fixtures/dstack` relative to the working directory (the repository root in every documented
/// command), then relative to each ancestor of the executable that holds a `Package.swift` (a binary under
/// `.build/…` of this package).
package func defaultDstackFixturesDirectory(
    executablePath: String = CommandLine.arguments.first ?? "",
    currentDirectory: String = FileManager.default.currentDirectoryPath
) -> String {
    let relative = "Fixtures/dstack"
    let fromWorkingDirectory = URL(fileURLWithPath: currentDirectory).appendingPathComponent(relative).standardized
    if FileManager.default.fileExists(atPath: fromWorkingDirectory.appendingPathComponent("appkeys.json").path) {
        return fromWorkingDirectory.path
    }
    var directory = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
    while directory.path != "/" && !directory.path.isEmpty {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            let candidate = directory.appendingPathComponent(relative).standardized
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("appkeys.json").path) {
                return candidate.path
            }
        }
        directory = directory.deletingLastPathComponent()
    }
    return fromWorkingDirectory.path
}
