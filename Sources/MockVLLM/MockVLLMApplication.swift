import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the mock vLLM server as a Hummingbird application (a `Service`), ready to run or to add to a
/// `ServiceGroup`.
///
/// - Parameters:
///   - configuration: Address, model, generation and faults.
///   - stats: Counters the server updates; keep a reference to observe it.
///   - logger: Logger for the server; request and response bodies are never logged.
///   - onServerRunning: Called once the socket is bound, with the real port (useful with port 0).
package func buildMockVLLMApplication(
    configuration: MockVLLMConfiguration,
    stats: MockVLLMStats = MockVLLMStats(),
    logger: Logger = Logger(label: "mock-vllm"),
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let port = configuration.port
    var responder = MockVLLMResponder(configuration: configuration, stats: stats)
    if let path = configuration.requestLogPath {
        responder.requestLog = MockVLLMRequestLog(path: path, bodies: configuration.requestLogBodies)
        if responder.requestLog == nil { logger.error("cannot open the request log", metadata: ["path": "\(path)"]) }
    }
    return Application(
        responder: responder,
        server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionWatcher()])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "uvicorn"),
        onServerRunning: { channel in
            await onServerRunning(channel.localAddress?.port ?? port)
        },
        logger: logger
    )
}

/// Runs the mock vLLM server until SIGTERM or SIGINT, then lets running responses finish for at most
/// ``shutdownGracePeriod`` (the `mock-vllm` executable; scripts stop it with a signal and expect it gone).
package func runMockVLLMUntilSignalled(
    configuration: MockVLLMConfiguration,
    stats: MockVLLMStats = MockVLLMStats(),
    logger: Logger,
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void
) async throws {
    let application = buildMockVLLMApplication(
        configuration: configuration,
        stats: stats,
        logger: logger,
        onServerRunning: onServerRunning
    )
    var groupConfiguration = ServiceGroupConfiguration(services: [application], logger: logger)
    groupConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
    groupConfiguration.maximumGracefulShutdownDuration = shutdownGracePeriod
    try await ServiceGroup(configuration: groupConfiguration).run()
}

/// Runs a mock vLLM server for the duration of `body`, which receives its port; stops it afterwards.
///
/// The usual way to get an upstream in a test: `try await withMockVLLM(stats: stats) { port in ... }`
/// with the default configuration binding 127.0.0.1 on a free port. When `body` returns (or throws) the
/// server shuts down gracefully: idle connections close, running responses get ``shutdownGracePeriod``
/// to finish before they are cancelled.
///
/// - Throws: The server's startup error (e.g. the port is taken), or whatever `body` throws.
@discardableResult
package func withMockVLLM<Value>(
    configuration: MockVLLMConfiguration = MockVLLMConfiguration(),
    stats: MockVLLMStats = MockVLLMStats(),
    logger: Logger = quietLogger(),
    _ body: (_ port: Int) async throws -> Value
) async throws -> Value {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let application = buildMockVLLMApplication(configuration: configuration, stats: stats, logger: logger) { port in
        portContinuation.yield(port)
    }
    var groupConfiguration = ServiceGroupConfiguration(services: [application], logger: logger)
    groupConfiguration.maximumGracefulShutdownDuration = shutdownGracePeriod
    let serviceGroup = ServiceGroup(configuration: groupConfiguration)

    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { portContinuation.finish() }
            try await serviceGroup.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            // The server ended before binding: surface its error.
            try await group.next()
            throw MockVLLMError.serverDidNotStart
        }
        let result: Result<Value, any Error>
        do {
            result = .success(try await body(port))
        } catch {
            result = .failure(error)
        }
        await serviceGroup.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// The default logger of ``withMockVLLM(configuration:stats:logger:_:)``: warnings and worse only, so test
/// output is not flooded with one "server started" line per test.
package func quietLogger() -> Logger {
    var logger = Logger(label: "mock-vllm")
    logger.logLevel = .warning
    return logger
}

/// How long a stopping server lets running responses finish before it cancels them.
package let shutdownGracePeriod: Duration = .seconds(1)
