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
    /// The backend it connects to (nil for a health probe's connection): told of its answers' statuses
    /// and of cuts, and addressed through its ``UpstreamBackend/rewrite``.
    var backend: UpstreamBackend?
    /// The connection counts as one request in flight on `backend` (from its pool's choice until released or closed).
    private(set) var isLeased = false
    /// It was idle in the pool before this request: a close before any answer is then most likely the
    /// server's idle close racing the request, not a failing backend.
    private var servesReused = false
    private var answerBegan = false
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

    private let live: LiveInstances

    init(live: LiveInstances) {
        self.live = live
        live.upstreamConnections.add(1, ordering: .relaxed)
    }

    deinit {
        live.upstreamConnections.subtract(1, ordering: .relaxed)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isOpen = context.channel.isActive
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The context holds this handler: keeping it past removal is a reference cycle that outlives the channel.
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        isOpen = true
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        guard let delegate else {
            // Bytes on an idle connection answer no request of ours (a smuggled second request, or a
            // server that sent more than one answer): they must never reach the next exchange.
            closed(error: UpstreamProtocolError.unsolicitedBytes)
            context.close(promise: nil)
            return
        }
        let part = unwrapInboundIn(data)
        if case .head(let head) = part {
            answerBegan = true
            backend?.answered(status: Int(head.status.code))
        }
        delegate.upstreamReceived(part)
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

    /// Sends one request, framed here and nowhere else: the body, when present, is written as one
    /// buffer under a `Content-Length` this method sets from it, and a request without a body carries
    /// none. Whatever framing headers the caller put in `head` are replaced, so the bytes written can
    /// never be read by the server as more than one request.
    /// - Parameter idleLimit: how long the answer may go silent (before its head, or between chunks).
    func send(_ head: HTTPRequestHead, body: ByteBuffer?, idleLimit: TimeAmount) {
        guard let context else { return }
        self.idleLimit = idleLimit
        lastActivity = .now()
        answerBegan = false
        if timer == nil { armTimer(context: context) }
        backend?.requestSent()
        var head = head
        if let rewrite = backend?.rewrite {
            head.headers.replaceOrAdd(name: "Host", value: rewrite.host)
            head.uri = rewrite.uri(head.uri)
        }
        head.headers.remove(name: "transfer-encoding")
        head.headers.remove(name: "content-length")
        let length = body?.readableBytes ?? 0
        if length > 0 || head.method == .POST || head.method == .PUT || head.method == .PATCH {
            head.headers.add(name: "Content-Length", value: String(length))
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, length > 0 {
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

    /// Its pool gave it to a request (`reused`: from the idle list); the backend's lease is already taken.
    func leased(reused: Bool) {
        isLeased = true
        servesReused = reused
    }

    /// The request is done with it: the backend has one request fewer in flight.
    func endLease() {
        guard isLeased else { return }
        isLeased = false
        backend?.endLease()
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
        if isLeased {
            // Closed under a request (not by the request's own release): the backend failed it, unless a
            // reused connection closed before any answer (the retry on a fresh connection tells).
            if answerBegan || !servesReused { backend?.answerCut(error) }
            endLease()
        }
        let delegate = self.delegate
        self.delegate = nil
        if wasOpen { pool?.connectionClosed(self) }
        delegate?.upstreamClosed(error: error)
    }
}
