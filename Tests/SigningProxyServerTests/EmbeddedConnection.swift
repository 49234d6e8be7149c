import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SigningCore

@testable import SigningProxyServer

/// One client connection's pipeline (observer, HTTP codec, fast-path router) on an `EmbeddedChannel`,
/// with the loop's clock under the test's control. Only routes that never reach the upstream are
/// exercised here: the upstream pools open real sockets.
final class EmbeddedConnection {
    let channel: EmbeddedChannel
    let loop: EmbeddedEventLoop
    let services: FastPathServices
    /// Kept so its HTTP client can be shut down (AsyncHTTPClient traps on a client freed while running).
    private let proxy: ProxyApplication

    init(configure: (inout ProxyConfiguration) -> Void = { _ in }) throws {
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
        services = proxy.fastPathServices(logger: Logger(label: "embedded"))
        loop = EmbeddedEventLoop()
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
        try? proxy.upstream.http.syncShutdown()
    }
}
