import Dispatch
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import SigningCore

#if canImport(Glibc)
import Glibc
#endif

@testable import SigningProxyServer

/// One client connection through the fast path with every upstream connection in memory: the client's
/// pipeline as production builds it (bytes observer, NIO's HTTP server codec, `FastPathRouter`), upstream
/// connections opened through the pool's connector seam as `EmbeddedChannel`s, and the loop's clock
/// under the harness's control. Recorders on both sides keep what crossed them, for ``FastPathChecks``.
///
/// Each session has its own notary, store, metrics and pools, so what one input stored cannot explain
/// what another finds.
final class FastPathSession {
    /// An upstream connection the proxy opened, with its recorder and the raw bytes it was sent.
    final class Upstream {
        let channel: EmbeddedChannel
        let recorder: UpstreamExchangeRecorder
        var sentBytes: [UInt8] = []

        init(channel: EmbeddedChannel, recorder: UpstreamExchangeRecorder) {
            self.channel = channel
            self.recorder = recorder
        }
    }

    /// Upstream connections in the order they were opened; filled by the connector on the loop's thread.
    final class Registry: @unchecked Sendable {
        var upstreams: [Upstream] = []
        let counter = UpstreamExchangeRecorder.RequestCounter()
    }

    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let clientRecorder = ClientExchangeRecorder()
    let registry = Registry()
    let services: FastPathServices
    private let router: FastPathRouter
    private var generalRouterInstalled = false
    /// Every byte the proxy wrote to the client.
    private(set) var clientBytes: [UInt8] = []

    init(configuration: ProxyConfiguration, signer: ExchangeSigner, logger: Logger) throws {
        // See `advance(seconds:)`: the loop's clock starts where the wall clock is.
        loop.advanceTime(to: .now())
        let metrics = ProxyMetrics(signingMode: configuration.signingMode)
        let store = SignatureStore<SignatureRecord>(capacity: configuration.signatureCacheCapacity, ttl: configuration.chatCacheExpiration)
        let notary = ExchangeNotary(signer: signer, store: store, metrics: metrics, mode: configuration.signingMode)
        let authenticator = BearerAuthenticator(tokens: configuration.tokens)
        let loop = self.loop
        let registry = self.registry
        let upstreamAddress = try SocketAddress(ipAddress: "127.0.0.1", port: 8000)
        let connector = UpstreamConnector { eventLoop, initialize in
            let channel = EmbeddedChannel(loop: loop)
            do {
                try initialize(channel)
                let recorder = UpstreamExchangeRecorder(counter: registry.counter)
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(recorder, position: .before(try sync.handler(type: UpstreamConnection.self)))
                registry.upstreams.append(Upstream(channel: channel, recorder: recorder))
                return channel.connect(to: upstreamAddress).map { channel }
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        }
        let pools = UpstreamPools(
            baseURL: configuration.upstreamBase, connectTimeout: .seconds(1), maxIdle: 4, group: .singleton, connector: connector)
        services = FastPathServices(
            configuration: configuration, target: pools.target, authenticator: authenticator, notary: notary,
            signatures: SignatureRoute(authenticator: authenticator, notary: notary, metrics: metrics), metrics: metrics,
            pools: pools, logger: logger, upstreamTimeout: .nanoseconds(configuration.upstreamTimeout.nanoseconds),
            headerTimeout: .nanoseconds(configuration.headerTimeout.nanoseconds),
            bodyTimeout: .nanoseconds(configuration.bodyTimeout.nanoseconds), bodyMinRate: configuration.bodyMinRate,
            keepAliveTimeout: .nanoseconds(configuration.keepAliveTimeout.nanoseconds),
            connections: ConnectionLimiter(limit: configuration.maxConnections), live: pools.live)

        client = EmbeddedChannel(loop: loop)
        let observer = ClientBytesObserver()
        let sync = client.pipeline.syncOperations
        try sync.addHandler(HalfCloseEmulator())
        try sync.addHandler(observer)
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false)
        try sync.addHandler(clientRecorder)
        router = FastPathRouter(services: services, gate: GeneralRouterGate())
        observer.router = router
        try sync.addHandler(router)
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    /// Per-connection objects of this session alive now.
    var live: LiveInstances { services.live }

    // MARK: Events

    /// Numbers the script's steps, so checks can tell what happened right after an answer ended.
    private(set) var step = 0
    /// Steps at which the client reset or closed the connection: NIO reports a reset as a plain close,
    /// so the proxy reads a close while a delivery is still being decided as a reset.
    private(set) var resets: [Int] = []

    func beginStep() {
        step += 1
        clientRecorder.step = step
    }

    func clientSends(_ bytes: UnsafeRawBufferPointer) {
        guard client.isActive else { return }
        // A decoder error is answered through the pipeline and rethrown here.
        _ = try? client.writeInbound(ByteBuffer(bytes: bytes))
        settle()
    }

    func upstreamSends(_ bytes: UnsafeRawBufferPointer, to index: Int) {
        guard let upstream = upstream(index), upstream.channel.isActive else { return }
        let wasAnswering = upstream.recorder.responses.count
        _ = try? upstream.channel.writeInbound(ByteBuffer(bytes: bytes))
        settle()
        let unsolicited = upstream.recorder.responses.dropFirst(wasAnswering).contains { !$0.solicited }
        Invariant.require(!unsolicited || !upstream.channel.isActive, "an upstream connection that sent an answer nobody asked for is still open")
    }

    /// The client half-closes (it will send nothing more), as a client that gave up does.
    func clientHalfCloses() {
        guard client.isActive else { return }
        client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        settle()
    }

    func clientCloses() {
        guard client.isActive else { return }
        resets.append(step)
        client.close(promise: nil)
        settle()
    }

    /// The client's kernel resets the connection (it closed with bytes unread): NIO reports the reset,
    /// then closes the channel.
    func clientResets() {
        guard client.isActive else { return }
        resets.append(step)
        client.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "fuzz"))
        if client.isActive { client.close(promise: nil) }
        settle()
    }

    func clientWritabilityToggles() {
        guard client.isActive else { return }
        client.isWritable.toggle()
        client.pipeline.fireChannelWritabilityChanged()
        settle()
    }

    func upstreamCloses(_ index: Int, withError: Bool) {
        guard let upstream = upstream(index), upstream.channel.isActive else { return }
        if withError {
            upstream.channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "fuzz"))
        } else {
            upstream.channel.close(promise: nil)
        }
        settle()
    }

    /// Moves the loop's clock on, at most ``maxAdvance`` in all.
    ///
    /// `UpstreamConnection` keeps its idle-read deadline on the wall clock (`NIODeadline.now()`) but
    /// schedules its timer on the loop: once the loop's clock passes the wall-clock deadline, the timer
    /// re-arms itself at a past deadline forever and `advanceTime` never returns. The loop therefore
    /// starts at the wall clock's now and never runs ahead of it by the upstream timeout (580 s here
    /// and 1 s in `tearDown`); every client timeout (header, body, keep-alive, linger) is well inside.
    func advance(seconds: Int) {
        let step = min(seconds, Self.maxAdvance - advanced)
        guard step > 0 else { return }
        advanced += step
        loop.advanceTime(by: .seconds(Int64(step)))
        settle()
    }

    static let maxAdvance = 580
    /// What `tearDown` lets pass: longer than `FastPathRouter.deliveryGrace`.
    static let finalPause = TimeAmount.seconds(1)
    private var advanced = 0

    /// Lets a second pass (every delivery decision and short timer is due by then), closes whatever is
    /// still open, cleanly, and stops the loop.
    func tearDown() {
        beginStep()
        loop.advanceTime(by: Self.finalPause)
        settle()
        if client.isActive { client.close(promise: nil) }
        settle()
        for upstream in registry.upstreams where upstream.channel.isActive {
            upstream.channel.close(promise: nil)
        }
        settle()
        // A socket channel fails the writes still waiting for a flush when it closes; an EmbeddedChannel
        // keeps them, and their promises keep the channel and the loop alive. The recorder has already
        // counted them as failed (`ClientExchangeRecorder.channelInactive`); flushing the closed core
        // completes them, so nothing outlives the session.
        client._channelCore.flush0()
        for upstream in registry.upstreams { upstream.channel._channelCore.flush0() }
        // Remaining timers are cancelled: an EmbeddedEventLoop may not be freed with tasks scheduled.
        loop.shutdownGracefully(queue: DispatchQueue.global()) { _ in }
    }

    // MARK: Helpers

    private func upstream(_ index: Int) -> Upstream? {
        let upstreams = registry.upstreams
        return upstreams.isEmpty ? nil : upstreams[index % upstreams.count]
    }

    /// Runs what is due, adds the general router's stand-in once a request needs it (production
    /// does so from the connection's task, after the current read), and collects written bytes.
    private func settle() {
        loop.run()
        if clientRecorder.sawGeneralRoute, !generalRouterInstalled, client.isActive {
            generalRouterInstalled = true
            if (try? client.pipeline.syncOperations.addHandler(GeneralRouterStandIn())) != nil {
                router.generalRouterInstalled()
            }
            loop.run()
        }
        while let buffer = try? client.readOutbound(as: ByteBuffer.self) {
            clientBytes += Array(buffer.readableBytesView)
        }
        for upstream in registry.upstreams {
            while let buffer = try? upstream.channel.readOutbound(as: ByteBuffer.self) {
                upstream.sentBytes += Array(buffer.readableBytesView)
            }
        }
    }
}
