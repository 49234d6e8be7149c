import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SigningCore

@testable import SigningProxyServer

/// One client connection's pipeline (observer, HTTP codec, fast-path router) on an `EmbeddedChannel`,
/// with the loop's clock under the test's control. Upstream connections are `EmbeddedChannel`s on the
/// same loop too (see ``upstreams``): the test reads what the proxy sent and feeds the answer.
final class EmbeddedConnection {
    let channel: EmbeddedChannel
    let loop: EmbeddedEventLoop
    let services: FastPathServices
    /// Every upstream connection the proxy opened, in order.
    private let opened = NIOLockedValueBox<[EmbeddedChannel]>([])
    var upstreams: [EmbeddedChannel] { opened.withLockedValue { $0 } }
    /// The application whose fast-path services the connection uses.
    private let proxy: ProxyApplication

    /// - Parameter rateLimiter: shared by several connections (a test of limits across connections);
    ///   otherwise the configuration's own.
    init(rateLimiter: RateLimiter? = nil, configure: (inout ProxyConfiguration) -> Void = { _ in }) throws {
        var configuration = ProxyConfiguration()
        configuration.upstream = "http://127.0.0.1:9"
        configuration.modelName = "tiny"
        configuration.tokens = ["test-token"]
        configuration.dev = true
        configure(&configuration)
        let proxy = ProxyApplication(
            configuration: configuration, keys: SigningKeys.dev(seed: "embedded"),
            attestation: UnavailableAttestation(reason: "Attestation unavailable: dev mode"))
        self.proxy = proxy
        let loop = EmbeddedEventLoop()
        self.loop = loop
        let opened = self.opened
        let connector = UpstreamConnector { eventLoop, initialize in
            let upstream = EmbeddedChannel(loop: loop)
            do {
                try initialize(upstream)
                opened.withLockedValue { $0.append(upstream) }
                return upstream.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8000)).map { upstream }
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        }
        let base = proxy.fastPathServices(logger: Logger(label: "embedded"))
        services = FastPathServices(
            configuration: base.configuration, target: base.target, authenticator: base.authenticator, notary: base.notary,
            signatures: base.signatures, metrics: base.metrics,
            pools: UpstreamPools(
                baseURL: configuration.upstreamBase, connectTimeout: .seconds(1), maxIdle: 4, group: .singleton,
                connector: connector),
            logger: base.logger, upstreamTimeout: base.upstreamTimeout, headerTimeout: base.headerTimeout,
            bodyTimeout: base.bodyTimeout, bodyMinRate: base.bodyMinRate, keepAliveTimeout: base.keepAliveTimeout,
            connections: base.connections, live: base.live, rateLimiter: rateLimiter ?? base.rateLimiter)
        channel = EmbeddedChannel(loop: loop)
        let observer = ClientBytesObserver()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(observer)
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false)
        let router = FastPathRouter(services: services, gate: GeneralRouterGate())
        observer.router = router
        try sync.addHandler(router)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    /// Feeds client bytes; a decoder error is answered by the router, not thrown.
    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        do {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            // The HTTP decoder reports bad bytes through the pipeline and rethrows them here.
        }
    }

    /// Every byte the proxy has written to `upstream` since the last call.
    func sent(on upstream: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try upstream.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    /// Feeds upstream bytes (an answer, or bytes no request asked for).
    func answer(on upstream: EmbeddedChannel, _ text: String) {
        do {
            try upstream.writeInbound(ByteBuffer(string: text))
        } catch {
            // A decoder error closes the upstream connection; the proxy's reaction is what is checked.
        }
    }

    /// Feeds upstream bytes exactly (captures may hold bytes that are not UTF-8).
    func answer(on upstream: EmbeddedChannel, bytes: [UInt8]) {
        do {
            try upstream.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            // As above: the proxy's reaction is what is checked.
        }
    }

    /// Every byte the proxy has written to the client since the last call, exactly.
    func outputBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    /// Every byte the proxy has written to the client since the last call.
    func output() throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    func advance(by amount: TimeAmount) {
        loop.advanceTime(by: amount)
    }

    var isActive: Bool { channel.isActive }

    /// Closes the connection if the test left it open, and runs what closing schedules.
    func finish() {
        if channel.isActive { _ = try? channel.finish(acceptAlreadyClosed: true) }
        loop.run()
        for upstream in upstreams where upstream.isActive { _ = try? upstream.finish(acceptAlreadyClosed: true) }
    }
}
