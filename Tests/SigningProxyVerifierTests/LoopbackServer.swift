import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Canned HTTP answers on 127.0.0.1 (a free port) standing in for Intel PCS and NVIDIA NRAS while the
/// `signing-proxy` binary talks to it; every request is recorded.
final class LoopbackServer: Sendable {
    /// One request as received: method, path with query, body.
    struct Received: Sendable {
        var method: String
        var uri: String
        var body: [UInt8]
    }

    /// A canned answer, or nil for 404.
    typealias Handler = @Sendable (Received) -> (status: Int, headers: [String: String], body: [UInt8])?

    private let recorded = Mutex<[Received]>([])
    private let handler: Handler

    init(_ handler: @escaping Handler) {
        self.handler = handler
    }

    var requests: [Received] { recorded.withLock { $0 } }

    /// Runs the server for the duration of `body`, then shuts it down gracefully.
    func run<Value: Sendable>(_ body: @Sendable (_ baseURL: String) async throws -> Value) async throws -> Value {
        let router = Router()
        router.on("**", method: .get) { request, _ in try await self.answer(request) }
        router.on("**", method: .post) { request, _ in try await self.answer(request) }
        var logger = Logger(label: "loopback")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { continuation.finish() }
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.next()
                throw CancellationError()
            }
            let result: Result<Value, any Error>
            do {
                result = .success(try await body("http://127.0.0.1:\(port)"))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let received = Received(method: request.method.rawValue, uri: request.uri.description, body: Array(body.readableBytesView))
        recorded.withLock { $0.append(received) }
        guard let answer = handler(received) else { return Response(status: .notFound) }
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
