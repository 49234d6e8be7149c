import NIOCore
import NIOHTTP1

/// What an upstream connection reports to the exchange that holds it; every call is on its event loop.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    /// The connection closed or failed; it is gone from the pool and must not be used again.
    func upstreamClosed(error: (any Error)?)
    /// Nothing arrived for the idle-read limit since the request was sent or the last bytes came.
    func upstreamTimedOut()
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
    /// The idle-read limit for requests on this connection, and when bytes last moved.
    private var idleLimit = TimeAmount.seconds(600)
    private var lastActivity = NIODeadline.now()
    /// One timer per connection, pushed forward lazily: requests and reads only record the time, so
    /// the timer costs nothing per request or chunk.
    private var timer: Scheduled<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isOpen = context.channel.isActive
    }

    func channelActive(context: ChannelHandlerContext) {
        isOpen = true
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
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
    /// - Parameter idleLimit: how long the answer may go silent (before its head, or between chunks).
    func send(_ head: HTTPRequestHead, body: ByteBuffer?, idleLimit: TimeAmount) {
        guard let context else { return }
        self.idleLimit = idleLimit
        lastActivity = .now()
        if timer == nil { armTimer(context: context) }
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

    private func armTimer(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastActivity + idleLimit) { [self] in
            timer = nil
            // Idle in the pool: nothing to time; the next request arms the timer again.
            guard let delegate, isOpen else { return }
            if NIODeadline.now() - lastActivity < idleLimit {
                armTimer(context: context)
            } else {
                delegate.upstreamTimedOut()
            }
        }
    }

    private func closed(error: (any Error)?) {
        timer?.cancel()
        timer = nil
        let wasOpen = isOpen
        isOpen = false
        let delegate = self.delegate
        self.delegate = nil
        if wasOpen { pool?.connectionClosed(self) }
        delegate?.upstreamClosed(error: error)
    }
}
