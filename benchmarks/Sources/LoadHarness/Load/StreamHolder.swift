import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Opens many streamed completions at once and keeps them open, to measure memory per open stream.
final class StreamHolder: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channels = Mutex<[any Channel]>([])
    /// Streams whose response head arrived.
    let headers = Atomic<Int>(0)
    /// Streams that delivered at least one complete SSE event.
    let streaming = Atomic<Int>(0)
    /// Connections that failed or closed before we closed them.
    let failures = Atomic<Int>(0)

    init(group: MultiThreadedEventLoopGroup) {
        self.group = group
    }

    /// Opens `count` connections to `target`, `batch` at a time with `pause` between batches (so the
    /// server's accept backlog is not overrun), each sending `request` once.
    func open(count: Int, target: SocketAddress, request: RequestSpec, batch: Int, pause: Duration) async {
        var opened = 0
        while opened < count {
            let size = min(batch, count - opened)
            await withTaskGroup(of: Void.self) { tasks in
                for _ in 0..<size {
                    tasks.addTask { await self.openOne(target: target, request: request) }
                }
            }
            opened += size
            try? await Task.sleep(for: pause)
        }
    }

    private func openOne(target: SocketAddress, request: RequestSpec) async {
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HeldStream(holder: self, request: request))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        do {
            let channel = try await bootstrap.connect(to: target).get()
            channels.withLock { $0.append(channel) }
        } catch {
            failures.add(1, ordering: .relaxed)
        }
    }

    /// Waits until `streaming` reaches `count` or `timeout` passes; returns the final count.
    func waitUntilStreaming(_ count: Int, timeout: Duration) async -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let current = streaming.load(ordering: .relaxed)
            if current >= count { return current }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return streaming.load(ordering: .relaxed)
    }

    /// Closes every connection and waits (bounded) for the closes to complete.
    func closeAll() async {
        let all = channels.withLock { channels in
            defer { channels = [] }
            return channels
        }
        for channel in all { channel.close(promise: nil) }
        for channel in all { try? await channel.closeFuture.get() }
    }
}

/// Sends one streamed request and counts its progress in the ``StreamHolder``.
private final class HeldStream: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let holder: StreamHolder
    private let request: RequestSpec
    private var sawEvent = false
    private var afterNewline = false

    init(holder: StreamHolder, request: RequestSpec) {
        self.holder = holder
        self.request = request
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status == .ok { holder.headers.add(1, ordering: .relaxed) }
        case .body(let buffer):
            guard !sawEvent else { return }
            for byte in buffer.readableBytesView {
                if byte == UInt8(ascii: "\n") {
                    if afterNewline {
                        sawEvent = true
                        holder.streaming.add(1, ordering: .relaxed)
                        return
                    }
                    afterNewline = true
                } else if byte != UInt8(ascii: "\r") {
                    afterNewline = false
                }
            }
        case .end:
            // A held stream should outlast the measurement; one that ends early is reported.
            holder.failures.add(1, ordering: .relaxed)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
