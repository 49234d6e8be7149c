import NIOCore
import NIOHTTP1

/// What an upstream connection reports to the exchange that holds it; every call is on its event loop.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    /// The connection closed or failed; it is gone from the pool and must not be used again.
    func upstreamClosed(error: (any Error)?)
}

/// The last handler of one keep-alive connection to vLLM: hands response parts to the exchange that
/// holds the connection, and lets that exchange pause reading while its client cannot keep up.
///
/// Lives on the event loop of the client connections it serves, so relaying a chunk never changes threads.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    /// The exchange using the connection; nil while it idles in the pool.
    var delegate: (any UpstreamConnectionDelegate)?
    /// Removes the connection from its pool once it closes.
    weak var pool: UpstreamPool?
    private(set) var isOpen = false
    /// When the connection went back to the pool.
    var idleSince = NIODeadline.now()
    private var readsPaused = false
    private var readPending = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isOpen = context.channel.isActive
    }

    func channelActive(context: ChannelHandlerContext) {
        isOpen = true
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        delegate?.upstreamReceived(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed(error: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closed(error: error)
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Sends one request; the body, when present, is written as one buffer.
    func send(_ head: HTTPRequestHead, body: ByteBuffer?) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Stops asking the socket for more bytes (the client's connection is full).
    func pauseReads() {
        readsPaused = true
    }

    /// Resumes reading, replaying a read that was asked for while paused.
    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func close() {
        guard isOpen else { return }
        context?.close(promise: nil)
    }

    private func closed(error: (any Error)?) {
        let wasOpen = isOpen
        isOpen = false
        let delegate = self.delegate
        self.delegate = nil
        if wasOpen { pool?.connectionClosed(self) }
        delegate?.upstreamClosed(error: error)
    }
}
