import NIOCore
import NIOHTTP1
import NIOPosix
import SigningProxyServer
import Synchronization

/// A loopback upstream with connection habits mock-vllm does not have (see ``Behaviour``).
final class QuirkyUpstream: Sendable {
    enum Behaviour: Sendable {
        /// Answers the first request on a connection and closes the connection when a second one
        /// arrives (an idle close racing a request).
        case closeSecond
        /// Answers every request with `Connection: close`.
        case closeEach
        /// Answers every request twice, the second answer unsolicited (as a server that read a
        /// smuggled second request would).
        case doubleAnswer
        /// Answers with a JSON completion padded to about this many bytes.
        case largeAnswer(Int)
    }

    struct State {
        var connections = 0
        var answered = 0
    }

    let state = Mutex(State())
    let behaviour: Behaviour
    var closeEach: Bool {
        if case .closeEach = behaviour { return true }
        return false
    }
    private let channel = Mutex<(any Channel)?>(nil)

    var port: Int { channel.withLock { $0?.localAddress?.port ?? 0 } }

    private init(behaviour: Behaviour) {
        self.behaviour = behaviour
    }

    static func start(_ behaviour: Behaviour = .closeSecond) async throws -> QuirkyUpstream {
        let upstream = QuirkyUpstream(behaviour: behaviour)
        let bound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(Handler(upstream: upstream))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        upstream.channel.withLock { $0 = bound }
        return upstream
    }

    /// Runs `body` with a proxy in front of a fresh upstream, and stops the upstream either way.
    static func withProxy(
        _ behaviour: Behaviour = .closeSecond,
        configure: @escaping @Sendable (inout ProxyConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (QuirkyUpstream, ProxyHarness) async throws -> Void
    ) async throws {
        let upstream = try await start(behaviour)
        let outcome: Result<Void, any Error>
        do {
            let port = upstream.port
            try await ProxyHarness.run(mock: nil, configure: { $0.upstream = "http://127.0.0.1:\(port)"; configure(&$0) }) { harness in
                try await body(upstream, harness)
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try await upstream.stop()
        try outcome.get()
    }

    func stop() async throws {
        try await channel.withLock { $0 }?.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let upstream: QuirkyUpstream
        var requestsOnConnection = 0

        init(upstream: QuirkyUpstream) {
            self.upstream = upstream
        }

        func channelActive(context: ChannelHandlerContext) {
            upstream.state.withLock { $0.connections += 1 }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            requestsOnConnection += 1
            if requestsOnConnection > 1, case .closeSecond = upstream.behaviour {
                context.close(promise: nil)
                return
            }
            answer(context: context)
            if case .doubleAnswer = upstream.behaviour { answer(context: context) }
        }

        private func answer(context: ChannelHandlerContext) {
            let number = upstream.state.withLock { state -> Int in
                defer { state.answered += 1 }
                return state.answered
            }
            var padding = ""
            if case .largeAnswer(let size) = upstream.behaviour { padding = String(repeating: "x", count: size) }
            let body = ByteBuffer(string: #"{"id":"chatcmpl-quirky-\#(number)","object":"chat.completion","choices":[],"pad":"\#(padding)"}"#)
            var headers: HTTPHeaders = ["Content-Type": "application/json", "Content-Length": "\(body.readableBytes)"]
            if upstream.closeEach { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let closeEach = upstream.closeEach
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if closeEach { context.close(promise: nil) }
            }
        }
    }
}
